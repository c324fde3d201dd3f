"""What a run shows on its live page (`--preview`): a Board the painting writes to and the
page's server (art.app.preview) reads from, in another thread.

The painting never waits for the page: it only stores values and a reference to its latest
image under a short lock. Turning that image into a JPEG happens in the server's thread, and
only when a page asks for it (at most once per image).
"""
import copy
import io
import threading

import numpy as np
from PIL import Image

from art.io import images

# The longest side of the image the page shows; a larger painting is scaled down.
PAGE_SIDE = 800
THUMB_SIDE = 200
ENDED = ('done', 'interrupted', 'failed')


def jpeg(pixels, side=PAGE_SIDE):
    """uint8 RGB `pixels` as JPEG bytes, scaled down to at most `side` pixels."""
    height, width = pixels.shape[:2]
    scale = min(1.0, side / max(height, width))
    if scale < 1:
        pixels = np.clip(np.rint(images.resize_rgb(pixels, max(1, round(height * scale)),
                                                   max(1, round(width * scale)))), 0, 255)
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(pixels, dtype=np.uint8)).save(buffer, 'JPEG', quality=90)
    return buffer.getvalue()


def painting_values(job, record, title, total):
    """What the page shows of a Job's painting that starts, with its `record`
    (art.app.record): its title, iterations, sizes, precision, tiles and, unless they
    are the published VGG-19's, its weights."""
    machine = record['environment']
    sizes = ['%dx%d' % (width, height) for height, width in job.sizes()]
    precision = machine['precision']
    return {'title': title, 'total': total, 'size': sizes[-1],
            'scales': sizes if len(sizes) > 1 else [], 'scale': sizes[0],
            'precision': precision['bulk'] if precision else None,
            'tiles': ['%dx%d: %d crops of %dx%d' % (tiled['size'][1], tiled['size'][0],
                                                    tiled['crops'], tiled['crop'][1],
                                                    tiled['crop'][0])
                      for tiled in machine.get('tiling') or []],
            # Said on the page when the weights are not the published VGG-19's.
            'weights_note': None if record['weights']['published'] else record['weights']['note']}


class Board:
    """The state of one run (a painting, a clip or a batch) for its page.

    `run` is what the whole run shows (its kind, status, frames or jobs, downloads);
    `painting` the painting under way (its settings and last iteration), whose loss rows
    start again with each new painting (a clip's frame, a batch's job): `epoch` counts them.
    """

    def __init__(self, kind='painting'):
        self._changed = threading.Condition()
        self.version = 0
        self.run = {'kind': kind, 'status': 'starting', 'reason': None, 'jobs': [],
                    'frames': None, 'downloads': [], 'network': None, 'can_save': True}
        self.painting = {}
        self.rows, self.epoch = [], 0
        self._image = (0, None)  # (its version, a function giving its JPEG bytes)
        self._encoded = (0, None)
        self._thumbs = {}
        self._downloads = {}
        self._save_asked = False
        self.streams = 0
        self.served = False  # whether a page is served (art.app.preview)
        self.relay = None  # where Save now goes when the painting is another process's

    def _touch(self):
        """Tell the page's streams that something changed (the lock held)."""
        self.version += 1
        self._changed.notify_all()

    def update_run(self, **values):
        with self._changed:
            self.run.update(values)
            self._touch()

    def begin_painting(self, **values):
        """A new painting: its settings; no rows and no image yet."""
        with self._changed:
            self.painting = dict(values, iteration=0, evaluations=0, seconds=0.0)
            self.rows, self.epoch = [], self.epoch + 1
            self._image = (0, None)
            self.run['status'] = 'running'
            self._touch()

    def add_row(self, row, image_source=None, **values):
        """One iteration: its trajectory row ({column: value}: iteration, evaluations,
        seconds, each group's loss, total, precision), the painting's values that changed,
        and a function giving its image's JPEG bytes (called only if a page asks). The page
        gets the row's values but precision, and the painting's `columns` naming them."""
        with self._changed:
            shown = [column for column in row if column != 'precision']
            self.rows.append([row[column] for column in shown])
            self.painting.update(values, iteration=row['iteration'],
                                 evaluations=row['evaluations'], seconds=row['seconds'],
                                 columns=shown)
            if image_source is not None:
                self._image = (self.version + 1, image_source)
            self._touch()

    def relayed(self, message, name):
        """Apply a message from a Relay (below): the painting of another process, a batch's
        job `name`."""
        with self._changed:
            if message['epoch'] != self.painting.get('epoch'):
                self.rows, self.epoch = [], self.epoch + 1
            painting = message['painting']
            self.painting = dict(painting, epoch=message['epoch'], title='%s: %s' % (
                name, painting['title']) if 'title' in painting else name)
            self.rows.extend(message['rows'])
            if message['image'] is not None:
                self._image = (self.version + 1, lambda data=message['image']: data)
            self.run['status'] = 'running'
            self._touch()

    def update_job(self, name, thumbnail=None, **values):
        """A batch job's status and reason, and a function giving its painting's uint8 RGB
        pixels once it has one."""
        with self._changed:
            for job in self.run['jobs']:
                if job['name'] == name:
                    job.update(values)
                    if thumbnail is not None:
                        self._thumbs[name] = thumbnail
                        job['thumbnail'] = self.version + 1
            self._touch()

    def thumbnail(self, name):
        """A batch job's thumbnail as JPEG bytes; None before it has one, or when its file
        is gone."""
        source = self._thumbs.get(name)
        try:
            return None if source is None else jpeg(source(), THUMB_SIDE)
        except (OSError, ValueError):
            return None

    def end(self, status, reason, downloads):
        """The run ended: how, and the files the page offers ({name: path})."""
        with self._changed:
            self._downloads = dict(downloads)
            self.run.update(status=status, reason=reason, downloads=sorted(downloads))
            self._touch()

    def download(self, name):
        return self._downloads.get(name)

    def image(self):
        """(version, JPEG bytes) of the latest image, encoded here at most once; (0, None)
        before the first."""
        version, source = self._image
        if source is None:
            return 0, None
        if self._encoded[0] != version:
            self._encoded = (version, source())
        return self._encoded

    def since(self, epoch, sent):
        """What a stream that has sent `sent` rows of painting `epoch` sends next: the
        message and the (epoch, rows sent) after it."""
        with self._changed:
            fresh = epoch != self.epoch
            rows = self.rows[0 if fresh else sent:]
            message = {'run': copy.deepcopy(self.run), 'painting': dict(self.painting),
                       'rows': rows,
                       'reset': fresh, 'image': self._image[0], 'version': self.version}
            return message, (self.epoch, len(self.rows))

    def wait(self, version, timeout):
        """Wait until the Board is newer than `version`, or `timeout` seconds."""
        with self._changed:
            self._changed.wait_for(lambda: self.version != version, timeout)
            return self.version

    def ask_save(self):
        """Save now: the painting writes a checkpoint at its next iteration."""
        if self.relay is not None:
            self.relay()
        with self._changed:
            self._save_asked = True

    def take_save(self):
        """Whether Save now was asked since the last call."""
        with self._changed:
            asked, self._save_asked = self._save_asked, False
            return asked

    @property
    def ended(self):
        return self.run['status'] in ENDED


class Relay(threading.Thread):
    """Sends the painting on a Board of this process (a batch's worker) to the batch's
    Board over `connection`, at most `rate` times a second, and passes Save now back."""

    def __init__(self, board, connection, rate):
        super().__init__(name='art relay', daemon=True)
        self.board, self.connection, self.rate = board, connection, rate

    def run(self):
        where, version, image = (None, 0), None, 0
        try:
            while True:
                if self.connection.poll(1 / self.rate):
                    self.connection.recv()  # Save now, the only message back
                    self.board.ask_save()
                if self.board.version == version:
                    continue
                message, where = self.board.since(*where)
                version, data = message['version'], None
                if message['image'] != image:
                    image, data = self.board.image()
                self.connection.send({'epoch': where[0], 'painting': message['painting'],
                                      'rows': message['rows'], 'image': data})
        except (EOFError, OSError):  # the batch went
            return


def receive(board, connection, name):
    """Apply a Relay's messages from `connection` (job `name`'s worker) to `board` until the
    worker ends."""
    try:
        while True:
            board.relayed(connection.recv(), name)
    except (EOFError, OSError):
        return
