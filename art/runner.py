"""Running a Job: pictures read, weights loaded, the engine driven, every file written.

Data flows one way: files -> pictures (art.files) -> weights (art.weights,
art.download, art.cache) -> the engine's Iterates (art.engine) -> images, the
loss log, the record, the contact sheet and the loss curve on disk. The Job
was validated before any of this starts (art.job).
"""
import collections
import contextlib
import importlib
import os
import signal
import time

import numpy as np
from tqdm import tqdm

from art import costs, cpu, files, images, pictures as sheets, record as records
from art.cache import read_vgg19_cached
from art.constants import FINISH_PRECISION
from art.crops import crop_shape, spans
from art.download import DownloadError, download
from art.errors import EXIT_FAILED, STOPS, Terminated, UsageError, ending_of
from art.network import aligned_tile, convs_up_to, halo_for
from art.weights import KNOWN_FILES

# Tile sides --tile-size's default tries, largest first: the first that fits. Larger
# tiles spend less on halos and pass 1 (bench/RESULTS.md), smaller ones less memory.
TILE_SIZES = (2048, 1536, 1024, 768, 512, 384, 256, 128)
# The pictures a Job paints with, uint8 RGB: `init` is None unless --init image.
Pictures = collections.namedtuple('Pictures', 'content styles init')


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def stopping_once():
    """Inside (in the main thread), the first SIGINT or SIGTERM raises KeyboardInterrupt or
    Terminated and the ones after it are ignored: they would interrupt the saving of
    what was painted. For processes whose stop may come twice: a batch's worker gets its
    terminal's Ctrl-C and the batch's forwarded one."""
    previous = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}

    def stop(signum, frame):  # pylint: disable=unused-argument
        for each in STOP_SIGNALS:
            signal.signal(each, signal.SIG_IGN)
        raise KeyboardInterrupt if signum == signal.SIGINT else Terminated(signum)

    for signum in STOP_SIGNALS:
        signal.signal(signum, stop)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def read_pictures(job):
    """The Job's content, style and init pictures, uint8 RGB."""
    return Pictures(files.read_rgb(job.content), [files.read_rgb(path) for path in job.style],
                    files.read_rgb(job.init_image) if job.init_image else None)


def _missing_weights(job, reason):
    return ('%s; download %s and put it at %s, or run with --weights synthetic (random weights, '
            'no artistic result)' % (reason, job.weights_url, job.weights))


def fetch_weights(job, say):
    """Download the weights file when it is missing, unless --offline."""
    if os.path.exists(job.weights):
        return
    if job.offline:
        raise UsageError(_missing_weights(job, 'weights file %s not found and --offline is '
                                               'given' % job.weights))
    say('downloading %s to %s' % (job.weights_url, job.weights))
    known = set(KNOWN_FILES) | set(job.weights_md5)
    with tqdm(unit='B', unit_scale=True, unit_divisor=1024, desc='weights', leave=False,
              disable=None) as progress:
        try:
            download(job.weights_url, job.weights, known=known, progress=progress)
        except DownloadError as error:
            raise UsageError(_missing_weights(job, str(error))) from None


def load_weights(job, say, layers=None):
    """(VGGWeights for the Job's layers, or `layers`, the weights as a record describes them).

    The description's `note` says plainly when they are not VGG-19's.
    """
    layers = layers or convs_up_to(job.last_layer, job.pooling)
    if job.synthetic:
        from art.synthetic import SYNTHETIC_NOTE, synthetic_weights  # pylint: disable=import-outside-toplevel
        weights = synthetic_weights()
        if job.kernel_layout == 'transposed':
            weights = weights.transposed()
        return weights, {'path': job.weights, 'md5': weights.checksum(), 'layout': weights.layout,
                         'kernel_layout': job.kernel_layout, 'synthetic': True,
                         'published': False, 'note': 'synthetic: ' + SYNTHETIC_NOTE}
    fetch_weights(job, say)
    weights = read_vgg19_cached(job.weights, layers, job.kernel_layout, warn=say)
    published = weights.md5 in KNOWN_FILES
    note = ('%s (%s layout, the published VGG-19, MD5 %s)' if published else
            '%s (%s layout, MD5 %s): not a published VGG-19 file, a synthetic or modified '
            'network: results are not artistic') % (job.weights, weights.layout, weights.md5)
    return weights, {'path': job.weights, 'md5': weights.md5, 'layout': weights.layout,
                     'kernel_layout': job.kernel_layout, 'synthetic': False,
                     'published': published, 'note': note}


def check_memory(job, weights):
    """(estimated peak bytes, {size: tile or None}) of the Job, every size checked.

    A size is painted untiled where its estimate fits in the memory available
    (or --tile-size 0 says so), else on tiles of --tile-size or of the largest
    of TILE_SIZES that fits. UsageError for a size that fits neither way.
    """
    available = costs.available_memory()
    history = job.lbfgs_history if job.optimizer == 'lbfgs' else 0
    widths, last = weights.widths(), job.last_layer
    stride, halo = halo_for(last, job.pooling)
    peak, tiles = 0, {}
    for size in job.sizes():
        largest = max([size, job.style_size(size)], key=lambda side: side[0] * side[1])
        bounds = costs.bounds_bytes(*size) if job.pixel_bounds and history else 0
        needed, tile = costs.estimate_memory(*largest, widths, last, history) + bounds, None
        if job.tile_size or (job.tile_size is None and needed > available):
            tiled = [(costs.estimate_tiled_memory(
                *largest, crop_shape(largest, candidate, halo, stride), widths, last, history)
                      + bounds, candidate)
                     for candidate in ([aligned_tile(job.tile_size, stride)] if job.tile_size
                                       else TILE_SIZES)]
            needed, tile = next((option for option in tiled if option[0] <= available),
                                tiled[-1])
        if needed > available:
            raise UsageError('%dx%d needs an estimated %.1f GiB of memory%s and %.1f GiB is '
                             'available; use %s' % (
                                 largest[1], largest[0], needed / 2**30,
                                 ' on %d-pixel tiles' % tile if tile else '',
                                 available / 2**30, ways_out(job, tile, largest, history)))
        peak, tiles[tuple(size)] = max(peak, needed), tile
    return peak, tiles


def ways_out(job, tile, size, history):
    """Every way a Job that does not fit could: a smaller size, tiles (or smaller ones),
    and Adam, which keeps no L-BFGS state."""
    ways = ['a smaller --width/--height']
    if not tile:
        ways.append('--tile-size (tiles)')
    elif job.tile_size and job.tile_size > TILE_SIZES[-1]:
        ways.append('a smaller --tile-size')
    if history:
        ways.append("--optimizer adam (L-BFGS's state alone takes %.1f GiB; a shorter "
                    '--lbfgs-history takes less)' % (costs.optimizer_bytes(*size, history) / 2**30))
    return ', '.join(ways[:-1]) + ' or ' + ways[-1] if len(ways) > 1 else ways[0]


def describe_tiles(job, tiles):
    """Each tiled size as a record keeps it: size, tile, halo, crops and the pixels the
    crops evaluate per pixel of the image (the halo's overhead)."""
    stride, halo = halo_for(job.last_layer, job.pooling)
    described = []
    for size, tile in tiles.items():
        if tile:
            rows, columns = (spans(length, tile, halo, stride) for length in size)
            covered = sum(row[1] - row[0] for row in rows) * sum(c[1] - c[0] for c in columns)
            described.append({'size': list(size), 'tile': tile, 'halo': halo,
                              'crops': len(rows) * len(columns),
                              'crop': list(crop_shape(size, tile, halo, stride)),
                              'overhead': round(covered / (size[0] * size[1]), 3)})
    return described


def tiling_line(tiled):
    """One tiled size in words."""
    return ('%dx%d on tiles: %d crop%s of %dx%d pixels, each a tile with a halo of %d pixels '
            "(tiles of %d pixels, longer at the image's borders, where no halo is needed), "
            "%.2fx the image's pixels; the losses and gradient are the whole image's" % (
                tiled['size'][1], tiled['size'][0], tiled['crops'],
                '' if tiled['crops'] == 1 else 's', tiled['crop'][1], tiled['crop'][0],
                tiled['halo'], tiled['tile'], tiled['overhead']))


class LossLog:
    """The loss log: a CSV row per iteration, written and flushed as it comes.

    `tail -f` shows a run's progress; a crash leaves every row written before it.
    """

    def __init__(self, path, weights_note):
        self.path, self.handle = path, None
        if path:
            try:
                self.handle = open(path, 'w', encoding='utf-8')  # pylint: disable=consider-using-with
            except OSError as error:
                raise files.WriteError(path, files.reason_of(error), 'loss log') from None
            self._write('# art loss log; weights: %s\n%s\n' % (
                weights_note, ','.join(records.TRAJECTORY_COLUMNS)))

    def _write(self, text):
        """Write and flush `text`; WriteError (a full disk) names the log."""
        try:
            self.handle.write(text)
            self.handle.flush()
        except OSError as error:
            raise files.WriteError(self.path, files.reason_of(error), 'loss log') from None

    def add(self, row):
        if self.handle:
            self._write('%d,%d,%.3f,%.9g,%.9g,%.9g,%s\n' % tuple(row))

    def close(self):
        """Close the log; what a full disk kept from it was reported when it was written."""
        if self.handle:
            try:
                self.handle.close()
            except OSError:
                pass


def _thumbnail(pixels):
    """`pixels` at the contact sheet's thumbnail height."""
    return images.resize_rgb(pixels, sheets.THUMB_HEIGHT,
                             sheets.thumbnail_width(*pixels.shape[:2]))


class Progress:
    """One painting's progress on disk: log rows, checkpoints, the record, the last files."""

    SHEET_CHECKPOINTS = 8

    def __init__(self, job, record, say, pictures):
        self.job, self.record, self.say = job, record, say
        self.started = time.time()
        self.content_pixels = images.resize_rgb(pictures.content, *job.size)
        styles = [images.resize_rgb(pixels, *job.style_size(job.size)) for pixels in pictures.styles]
        self.inputs = [('content', self.content_pixels)] + [
            ('style %d' % (index + 1) if len(styles) > 1 else 'style', pixels)
            for index, pixels in enumerate(styles)]
        self.rows = record['trajectory']['rows']
        self.thumbnails = []
        self.last = None
        try:
            self.log = LossLog(job.loss_log, record['weights']['note'])
            records.write_record(job.record_path, record)
        except files.WriteError as error:  # before painting: the user's to mend
            raise UsageError(str(error)) from None

    def pixels(self, iterate):
        """The picture an iterate stands for, with the content's colours if asked."""
        pixels = images.to_pixels(iterate.image)
        if self.job.preserve_colors:
            pixels = images.preserve_colors(pixels, self.content_pixels)
        return pixels

    def _outcome(self, iterate, **more):
        self.record['outcome'].update(
            iterations=iterate.iteration, evaluations=iterate.evaluations,
            seconds=round(time.time() - self.started, 3), content_loss=float(iterate.content_loss),
            style_loss=float(iterate.style_loss), total_loss=float(iterate.total_loss), **more)

    def add(self, iterate):
        """Log an iterate; write it as a checkpoint, and the record, when its iteration is due."""
        if self.last is not None and iterate.precision != self.last.precision:
            self.say('iteration %d on: %s (until iteration %d: %s, total loss %.4g)' % (
                iterate.iteration, iterate.precision, self.last.iteration, self.last.precision,
                self.last.total_loss))
        row = [iterate.iteration, iterate.evaluations, round(time.time() - self.started, 3),
               float(iterate.content_loss), float(iterate.style_loss), float(iterate.total_loss),
               iterate.precision]
        self.last = iterate
        self.rows.append(row)
        self.log.add(row)
        every = self.job.checkpoint_every
        if every and iterate.iteration % every == 0:
            path = self.job.checkpoint_path(iterate.iteration)
            pixels = self.pixels(iterate)
            files.save_rgb(path, pixels)
            self.thumbnails.append(('iteration %d' % iterate.iteration, _thumbnail(pixels)))
            self.record['checkpoints'].append(dict(zip(records.TRAJECTORY_COLUMNS, row),
                                                   path=path, sha256=files.file_sha256(path)))
            self._outcome(iterate)
            records.write_record(self.job.record_path, self.record)
            self.say('iteration %d: %d evaluations, total loss %.4g -> %s' % (
                iterate.iteration, iterate.evaluations, iterate.total_loss, path))

    def finish(self, code, status, reason=None):
        """Write the last image, the sheet, the curve and the record; report; return `code`.

        Each file is tried whatever became of the ones before it (on a full disk the
        record may still fit); the first WriteError is raised after the report, and a
        result that could not be written makes the run failed.
        """
        self.log.close()
        last = self.last
        if last is None:
            self.record['outcome'].update(status=status, reason=reason)
            records.write_record(self.job.record_path, self.record)
            self.say('%s before the first iteration; no image written' % (reason or status))
            return code
        unwritten = []

        def attempt(write, *arguments):
            """write(*arguments)'s result, or None when it could not write its file."""
            try:
                return write(*arguments)
            except files.WriteError as error:
                unwritten.append(error)
                return None

        result = self.pixels(last)
        attempt(files.save_rgb, self.job.output, result)
        image_sha256 = None
        if unwritten:
            code = EXIT_FAILED
            if status != 'failed':  # a failure before this one stays the reason
                status, reason = 'failed', 'error: %s' % unwritten[0]
        else:
            image_sha256 = files.file_sha256(self.job.output)
        step = max(1, -(-len(self.thumbnails) // self.SHEET_CHECKPOINTS))
        attempt(sheets.contact_sheet, self.job.sheet_path, self.inputs
                + self.thumbnails[::step] + [('result, iteration %d' % last.iteration, result)])
        columns = np.array([row[:6] for row in self.rows], dtype=np.float64).T
        drawn = attempt(sheets.loss_curve, self.job.curve_path, columns[1], *columns[3:6])
        self._outcome(last, status=status, reason=reason, image_sha256=image_sha256)
        attempt(records.write_record, self.job.record_path, self.record)
        self.say('%s in %.1f s: %d iterations, %d evaluations; content %.4g, style %.4g, total '
                 '%.4g -> %s (record %s, contact sheet %s, %s)' % (
                     reason or status, self.record['outcome']['seconds'], last.iteration,
                     last.evaluations, last.content_loss, last.style_loss, last.total_loss,
                     self.job.output, self.job.record_path, self.job.sheet_path,
                     'loss curve %s' % self.job.curve_path if drawn else
                     "no loss curve: pip install -e '.[plots]' for matplotlib"
                     if drawn is False else 'loss curve not written'))
        if unwritten:
            raise unwritten[0]
        return code


def choose_precision(job):
    """(bulk precision, why, hint or None) of the Job on this machine's CPU; UsageError
    for a bfloat16 the CPU would only emulate."""
    importlib.import_module('art.tf1')  # oneDNN's switch is set before TensorFlow loads
    model, flags = cpu.cpuinfo()
    try:
        return cpu.choose_precision(job.precision, model, flags, cpu.onednn_enabled())
    except cpu.PrecisionError as error:
        raise UsageError(str(error)) from None


def prepare(job, say, weights_md5=None, loaded=None):
    """(pictures, weights, their description, estimated memory, tiles): the work before the
    graph.

    With `weights_md5`, the weights must have that checksum (a replay's); `loaded` is
    load_weights' answer when the caller has it (a batch's Ray worker).
    """
    pictures = read_pictures(job)
    weights, described = loaded or load_weights(job, say)
    if weights_md5 is not None and described['md5'] != weights_md5:
        raise UsageError('weights %s have MD5 %s, not the recorded %s: not the network the '
                         'painting was made with' % (job.weights, described['md5'], weights_md5))
    return (pictures, weights, described) + check_memory(job, weights)


def wants_system_allocator(job):
    """Whether `job` paints with the system allocator (art.cpu.SYSTEM_ALLOCATOR).

    oneDNN's pool keeps the largest run's buffers for good: a tiled painting
    then held about 3.5 GiB more beside L-BFGS-B's state at 4000x3000
    (measured when crops came in up to four shapes per size; with one shape
    per size, not measured again). The system allocator hands each layer's
    buffers back, but fresh pages cost time: 1.12-1.20x per untiled 800x600
    evaluation, 1.37x on 2048-pixel tiles at 4000x3000 (bench/RESULTS.md).
    So tiles --tile-size asks for (memory first) use it; the default's tiles,
    the largest that fit (speed first), and untiled paintings keep the pool.
    TensorFlow reads the choice once per process: such a job needs a process
    of its own.
    """
    return bool(job.tile_size)


def run(job, say, weights_md5=None, last_iteration=None, loaded=None):
    """Paint `job`, writing its files as it goes; the exit code.

    `last_iteration` stops after that iteration (a replay of a run that
    ended there); `weights_md5` and `loaded` as in `prepare`.
    """
    precision, why, hint = choose_precision(job)
    pictures, weights, described, needed, tiles = prepare(job, say, weights_md5, loaded)
    if wants_system_allocator(job):
        os.environ.setdefault(cpu.SYSTEM_ALLOCATOR, '1')
    say('weights: %s' % described['note'])
    say('painting %s in the style of %s at %dx%d: %s, %d iterations%s, seed %d, estimated '
        'memory %.1f GiB' % (job.content, ' + '.join(job.style), job.width, job.height,
                             job.optimizer, job.total_iterations,
                             ' at scales %s' % ' '.join('%g' % s for s in job.scales)
                             if len(job.scales) > 1 else '', job.seed, needed / 2**30))
    from art import engine  # pylint: disable=import-outside-toplevel
    from art.optimizers import NonFiniteLoss  # pylint: disable=import-outside-toplevel
    from art.painting import session_configs  # pylint: disable=import-outside-toplevel
    configs = session_configs(precision)
    environment = records.environment(configs[FINISH_PRECISION], (precision, why))
    environment['tiling'] = describe_tiles(job, tiles)
    say('running on %s' % records.device_line(environment))
    if hint:
        say(hint)
    for tiled in environment['tiling']:
        say(tiling_line(tiled))
    record = records.new_record(job, records.describe_inputs(job), described, environment)
    progress = Progress(job, record, say, pictures)
    iterates = engine.paint(job, weights, pictures, configs, tiles)
    bar = tqdm(total=last_iteration or job.total_iterations, unit='it', desc='painting',
               leave=False, disable=None)
    ending, failure = (0, 'done'), None
    try:
        for iterate in iterates:
            progress.add(iterate)
            if iterate.iteration:
                bar.update(1)
                bar.set_postfix(evaluations=iterate.evaluations,
                                total='%.4g' % iterate.total_loss)
            if iterate.iteration == last_iteration and last_iteration < job.total_iterations:
                ending = (0, 'interrupted', 'stopped at iteration %d, where the record ends'
                          % last_iteration)
                break
    except NonFiniteLoss as error:
        ending = (EXIT_FAILED, 'failed', 'error: %s %s' % (
            error, 'after iteration %d; kept the last finite image' % progress.last.iteration
            if progress.last else 'at the start'))
    except STOPS as stop:
        ending = ending_of(stop)
    except Exception as error:  # pylint: disable=broad-except
        # A full disk, or anything else: recorded as failed, what could be kept written
        # below, then passed on to the command line's one-line report.
        ending, failure = ending_of(error), error
    finally:
        bar.close()
        iterates.close()
    try:
        code = progress.finish(*ending)
    except files.WriteError as error:
        failure = failure or error  # the first file that could not be written is the one said
    if failure is not None:
        raise failure
    return code


def explain(job, say):
    """`--explain`: build the Job's graph (or its crop graphs) at its full size and describe
    it; write nothing."""
    precision, why, hint = choose_precision(job)
    pictures, weights, described, needed, tiles = prepare(job, say)
    say('precision: %s' % records.precision_words(precision, why))
    if hint:
        say(hint)
    for tiled in describe_tiles(job, tiles):
        say(tiling_line(tiled))
    from art import engine, report  # pylint: disable=import-outside-toplevel
    content, styles = engine.network_images(job, pictures, job.size)
    start = engine.starting_image(job, pictures, content)
    with engine.evaluator(weights, content, styles, tiles[tuple(job.size)],
                          **job.painting_options()) as built:
        for line in report.explain(built, start, job, described['note'], weights.widths(),
                                   needed):
            say(line)
    return 0
