"""The pictures and the weights a Job paints with, read from their files (the weights
fetched when missing, unless --offline)."""
import collections
import os

from tqdm import tqdm

from art.app.errors import UsageError
from art.io import files, video
from art.io.colors import mask_of
from art.network.cache import read_vgg19_cached
from art.network.download import DownloadError, download
from art.network.layers import convs_up_to
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
        from art.network.synthetic import SYNTHETIC_NOTE, synthetic_weights  # pylint: disable=import-outside-toplevel
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
