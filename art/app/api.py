"""`art.paint`: a painting from Python, with the command line's settings, defaults, checks,
weights download, tiles, scales, colour control, masks and record.

    import art
    painted = art.paint(content='photo.jpg', style='painting.jpg', width=400)
    painted.image().save('painted.png')

Its keywords are art.app.settings' (the flags, with underscores), each defaulting to what
the command line's does; `content`, `style`, `init_image` and the masks may be paths, PIL
images or uint8 arrays. The command line paints through the same `job_of` and
art.app.runner.run.
"""
import dataclasses
import inspect
import json
import os
import tempfile
from typing import Callable, Dict, Optional, Sequence

import numpy as np

from art.app.board import Board
from art.app.job import Job, JobError
from art.app.job_files import check_files
from art.app.record import loss_names
from art.app.resolving import resolve
from art.app.settings import PICTURES, SETTING, SETTINGS
from art.io import files, video


@dataclasses.dataclass(frozen=True)
class Step:
    """One iteration as it happens: what `progress` is given."""
    iteration: int
    evaluations: int
    seconds: float
    content_loss: float
    style_loss: float
    total_loss: float
    losses: Dict[str, float]  # every group's loss and the total (tv, temporal, ...)
    jpeg: Callable[[], bytes]  # the live page's JPEG of this iteration, made when called


@dataclasses.dataclass(frozen=True)
class Painted:
    """A finished (or stopped) painting: its uint8 RGB `pixels` (None for a clip), the
    final losses, how it ended (`status`: done, interrupted, failed), the record (the
    OUTPUT.json the command line writes) and where the painting is (None when `paint`
    was given no output)."""
    pixels: Optional[np.ndarray]
    content_loss: float
    style_loss: float
    total_loss: float
    losses: Dict[str, float]  # every group's loss and the total, as the record's outcome
    status: str
    record: dict
    job: Job
    output: Optional[str]

    def image(self):
        """The painting as a PIL image."""
        from PIL import Image  # pylint: disable=import-outside-toplevel
        return Image.fromarray(self.pixels)


class _Watched(Board):
    """A Board that hands each iteration to a `progress` function."""

    def __init__(self, kind, progress):
        super().__init__(kind)
        self.progress = progress

    def add_row(self, row, image_source=None, **values):
        super().add_row(row, image_source, **values)
        self.progress(Step(row['iteration'], row['evaluations'], row['seconds'], row['content'],
                           row['style'], row['total'], {name: row[name] for name in
                                                        loss_names(row)}, image_source))


def job_of(settings, writes=True):
    """The checked Job of `settings` ({name: value or None}): resolved (art.app.resolving),
    validated, and its files checked before any slow work (its outputs too, with
    `writes`). The command line's Job is made here too."""
    job = resolve(settings)
    check_files(job, writes=writes)
    return job


def _is_picture(value):
    return isinstance(value, np.ndarray) or hasattr(value, 'getpixel')


def _write_pictures(given, folder):
    """`given` with each picture (a PIL image or an array) written as a PNG into `folder`
    (made for the first) and named by its path; paths pass through. JobError for a file
    already there."""
    written = dict(given)
    for name in PICTURES:
        value = given.get(name)
        if value is None:
            continue
        many = SETTING[name].plural
        values = list(value) if many else [value]
        paths = []
        for number, item in enumerate(values, 1):
            if not _is_picture(item):
                paths.append(item)
                continue
            path = os.path.join(folder, '%s%s.png' % (name.replace('_', '-'),
                                                      '-%d' % number if many else ''))
            if os.path.exists(path):
                raise JobError('%s: %s is there already; give another output' % (name, path))
            os.makedirs(folder, exist_ok=True)
            files.save_rgb(path, np.asarray(item.convert('RGB') if hasattr(item, 'convert')
                                            else item, np.uint8))
            paths.append(path)
        written[name] = paths if many else paths[0]
    return written


def paint(*, progress=None, say=None, **settings):
    """Paint, as run_art.py does with the same settings; a Painted.

    Keyword-only: the settings of art.app.settings (see the signature, or run_art.py
    --help), plus `progress` (called with a Step at each iteration) and `say` (called
    with each line the command line would print; default: silent). Pictures given as
    arrays or PIL images are written as PNGs into OUTPUT-inputs beside `output`
    (content.png, style-1.png, style-masks-1.png, ...), so that its record replays, or
    into a folder that is gone afterwards when no output is given. Raises JobError (a
    ValueError) for settings that cannot be painted, and the command line's errors for
    files (ImageError, WeightsError, ...)."""
    from art.app import runner  # pylint: disable=import-outside-toplevel
    unknown = sorted(set(settings) - set(SETTING))
    if unknown:
        raise TypeError('paint() got an unexpected keyword argument %r' % unknown[0])
    say = say or (lambda line: None)
    for name in (name for name in PICTURES if SETTING[name].plural):
        if isinstance(settings.get(name), (str, os.PathLike)) or _is_picture(settings.get(name)):
            settings[name] = [settings[name]]
    with tempfile.TemporaryDirectory(prefix='art-') as scratch:
        output = settings.get('output')
        content = settings.get('content')
        if output is None and isinstance(content, (str, os.PathLike)) and video.is_clip(content):
            raise JobError('a clip paints into a video or a folder: give output=')
        if output is None:
            settings['output'] = os.path.join(scratch, 'painting.png')
        settings = _write_pictures(settings, scratch if output is None
                                   else os.path.splitext(str(output))[0] + '-inputs')
        job = job_of({setting.name: settings.get(setting.name) for setting in SETTINGS})
        kind = 'clip' if job.is_clip else 'painting'
        board = _Watched(kind, progress) if progress else Board(kind)
        runner.run(job, say, board=board)
        with open(job.record_path) as record_file:
            record = json.load(record_file)
        outcome = record['outcome']
        pixels = None if job.is_clip else files.read_rgb(job.output)
        losses = {name: outcome.get(name + '_loss')
                  for name in loss_names(record['trajectory']['columns'])}
        return Painted(pixels, losses['content'], losses['style'], losses['total'], losses,
                       outcome.get('status'), record, job, output)


def _signature():
    """paint's signature: a keyword-only parameter per setting, typed, default None (the
    command line's default)."""
    picture = 'str | PIL.Image.Image | numpy.ndarray'
    parameters = [inspect.Parameter(
        setting.name, inspect.Parameter.KEYWORD_ONLY, default=None,
        annotation=(picture if setting.name in PICTURES else
                    Sequence[setting.kind] if setting.plural else setting.kind))
        for setting in SETTINGS]
    parameters += [inspect.Parameter('progress', inspect.Parameter.KEYWORD_ONLY, default=None,
                                     annotation=Optional[Callable[[Step], None]]),
                   inspect.Parameter('say', inspect.Parameter.KEYWORD_ONLY, default=None,
                                     annotation=Optional[Callable[[str], None]])]
    return inspect.Signature(parameters, return_annotation=Painted)


paint.__signature__ = _signature()
