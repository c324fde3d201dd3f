"""A Job's files checked before any slow work: its inputs readable pictures, its outputs
writable and none of them one of its inputs, its weights path a file or nothing yet."""
import os
import re

from art.app.job import JobError
from art.app.settings import SETTING
from art.constants import VGG_MODEL
from art.io import video
from art.io.colors import mask_of
from art.io.files import WriteError, check_image_type, check_writable, picture_size, read_rgb



def _same_file(first, second):
    """True when two paths name one file (existing or not)."""
    if os.path.exists(first) and os.path.exists(second):
        return os.path.samefile(first, second)
    return os.path.realpath(first) == os.path.realpath(second)


def _check_writable(path, what):
    """Create the folder of `path` if needed and prove the file can be written there."""
    if os.path.isdir(path):
        raise JobError('%s %s is a folder; give a file name' % (what, path))
    try:
        check_writable(path)
    except WriteError as error:
        raise JobError('cannot write %s %s: %s' % (what, path, error.reason)) from None


def pictures(job):
    """{what: path} of every picture the Job reads: content, styles, init image, masks."""
    return {'%s %s' % (setting.noun, path) if setting.plural else setting.noun: path
            for setting, path in job.input_pictures()}


def inputs(job):
    """{what: path} of every file the Job reads, the weights included unless named."""
    found = pictures(job)
    if not job.named_weights:
        found[SETTING['weights'].noun] = job.weights
    return found


def outputs(job):
    """{what: path} of the files a run of the Job writes, of its checkpoints the one with
    the longest name (a clip's: its video, frames, record and cache)."""
    if job.is_clip:
        found = {'frames folder': job.frames_folder, 'record': job.record_path,
                 'cache folder': job.cache_path}
        if job.output != job.frames_folder:
            found['output'] = job.output
        return found
    found = {'output': job.output, 'record': job.record_path, 'contact sheet': job.sheet_path,
             'loss curve': job.curve_path}
    if job.checkpoint_every:
        found['checkpoint'] = job.checkpoint_path(job.total_iterations)
    if job.loss_log:
        found['loss log'] = job.loss_log
    return found


def check_weights_path(path):
    """JobError for a weights path that names a folder or an empty file."""
    if os.path.isdir(path):
        raise JobError('%s: is a folder, not a weights file; give the path of %s'
                       % (path, VGG_MODEL))
    if os.path.exists(path) and not os.path.isfile(path):
        raise JobError('%s: is not a regular file (a named pipe or a device); give the path '
                       'of %s' % (path, VGG_MODEL))
    if os.path.isfile(path) and os.path.getsize(path) == 0:
        raise JobError('%s: is an empty file (0 bytes), not a weights file; delete it and run '
                       'again to download %s' % (path, VGG_MODEL))


def check_masks(job):
    """JobError for a mask that is black everywhere: it marks no region (ImageError for one
    that cannot be read)."""
    for name, paths in (('--style-masks', job.style_masks),
                        ('--style-image-masks', job.style_image_masks)):
        for path in paths:
            if mask_of(read_rgb(path)).max() <= 0:
                raise JobError('%s: %s is black everywhere, so its style has no region; '
                               'paint white where the style goes' % (name, path))


def check_clip(job):
    """JobError for a --frames range outside the clip, or an output inside its folder
    (VideoError for a clip that cannot be read)."""
    clip = video.probe(job.content)
    if job.frames and job.frames[1] > clip.frames:
        raise JobError('--frames %d:%d: %s has %d frames' % (job.frames + (job.content,
                                                                           clip.frames)))
    if os.path.isdir(job.content):
        for what, path in outputs(job).items():
            inside = os.path.realpath(path)
            if inside == os.path.realpath(job.content) or inside.startswith(
                    os.path.realpath(job.content) + os.sep):
                raise JobError('%s %s is in the content folder %s; choose a path outside it'
                               % (what, path, job.content))


def _check_folder(path, what):
    """JobError unless `path` is a folder or can be made one."""
    if os.path.exists(path) and not os.path.isdir(path):
        raise JobError('%s %s is a file; give a folder, or move the file away' % (what, path))
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as error:
        raise JobError('cannot make %s %s: %s' % (what, path, error.strerror)) from None


def check_files(job, writes=True):
    """Every input readable, every mask marking a region, the weights path usable; with
    `writes`, every output writable, of a known image type, and none of them an input.
    Raises JobError, ImageError or VideoError."""
    for setting, path in job.input_pictures():
        if not (job.is_clip and setting.name == 'content'):
            picture_size(path)
    if job.is_clip:
        check_clip(job)
    check_masks(job)
    if not job.named_weights:
        check_weights_path(job.weights)
    if not writes:
        return
    if not job.is_clip:
        check_image_type(job.output)
    sources = inputs(job)
    for what, path in outputs(job).items():
        for name, source in sources.items():
            if _same_file(path, source):
                raise JobError('%s %s is the %s; choose another path' % (what, path, name))
        if what in ('frames folder', 'cache folder'):
            _check_folder(path, what)
        else:
            _check_writable(path, what)
    stem, extension = os.path.splitext(os.path.abspath(job.output))
    pattern = re.compile(re.escape(stem) + r'-\d+' + re.escape(extension) + '$')
    for name, source in sources.items():
        if pattern.match(os.path.abspath(source)):
            raise JobError('checkpoints %s-N%s would overwrite the %s %s; choose another '
                           '--output' % (stem, extension, name, source))
    if job.loss_log and _same_file(job.loss_log, job.output):
        raise JobError('--loss-log and --output are the same file %s' % job.output)
