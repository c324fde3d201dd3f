"""Reading VGG-19's weights from MatConvNet's `imagenet-vgg-verydeep-19.mat`.

Two layouts of that file exist in the wild and both are read, by struct field
name rather than by position (art.py indexed positions, which only works for
the old layout):

- old (MatConvNet beta16, MD5 8ee3263992981a1d26e73b3ca028a123): top level
  `layers`, `normalization`, `classes`; conv fields `weights, pad, type, name,
  stride`; bias shaped (1, out).
- new (MD5 106118b7cf60435e6d8e04f6a6dc3657): top level `layers`, `meta`;
  conv fields `name, type, weights, size, pad, stride, precious, dilate,
  opts`; bias shaped (out, 1).

Kernels come out as stored, (kh, kw, in, out), which is what art.py fed to
`tf.nn.conv2d`. MatConvNet's first two axes are (width, height) when read from
Python, so `kernel_layout='transposed'` swaps them, as anishathalye's vgg.py
does; for VGG's 3x3 kernels the two orientations are mirror images.
"""
import collections
import hashlib
import os

import numpy as np
import scipy.io

from art.network.layers import CONV_LAYERS, VGG19_WIDTHS

# The files that MatConvNet has published under this name: MD5 -> (layout, bytes).
# The beta16 file's size is not recorded anywhere we could check, so it is
# identified by its MD5 alone.
KNOWN_FILES = {
    '8ee3263992981a1d26e73b3ca028a123': ('old', None),
    '106118b7cf60435e6d8e04f6a6dc3657': ('new', 534904783),
}

ConvLayer = collections.namedtuple('ConvLayer', 'kernel bias')
# How kernels are handed to conv2d: as the file stores them (art.py), or with
# their two spatial axes swapped (anishathalye's vgg.py).
KERNEL_LAYOUTS = ('as-stored', 'transposed')


class WeightsError(Exception):
    """A weights file that cannot be used; the message names the file."""


class VGGWeights:
    """The convolution kernels and biases of a VGG-19, by layer name.

    `layers` maps each conv name to a ConvLayer of float32 arrays: kernel
    (kh, kw, in, out) and bias (out,). `layout` is 'old', 'new', or
    'generated' for a network made by `art.network.synthetic`; `source` says where
    the weights came from, for messages; `md5` the file's checksum when known.
    """

    def __init__(self, layers, layout, source, md5=None):
        self.layers = layers
        self.layout = layout
        self.source = source
        self.md5 = md5

    def widths(self):
        """Output channels of each block held, e.g. {1: 64, ..., 5: 512} (fewer blocks when
        the layers stop early, as for a job whose deepest layer is conv4_2)."""
        return {block: self.layers['conv%d_1' % block].bias.shape[0]
                for block in VGG19_WIDTHS if 'conv%d_1' % block in self.layers}

    def transposed(self):
        """The same network with each kernel's two spatial axes swapped."""
        return VGGWeights({name: ConvLayer(np.ascontiguousarray(layer.kernel.transpose(1, 0, 2, 3)),
                                           layer.bias) for name, layer in self.layers.items()},
                          self.layout, self.source, self.md5)

    def checksum(self):
        """MD5 of the conv layers' kernels and biases, in network order: identifies
        weights that come from no file (a generated network)."""
        digest = hashlib.md5()
        for name in CONV_LAYERS:
            if name in self.layers:
                digest.update(name.encode())
                digest.update(np.ascontiguousarray(self.layers[name].kernel).tobytes())
                digest.update(np.ascontiguousarray(self.layers[name].bias).tobytes())
        return digest.hexdigest()



def _unwrapped(value):
    """`value` out of the 1x1 object arrays loadmat wraps MATLAB's cells and fields in."""
    while isinstance(value, np.ndarray) and value.dtype == object and value.size == 1:
        value = value.flat[0]
    return value


def _field(struct, name):
    """The value of field `name` of a 1x1 MATLAB struct read by loadmat."""
    return _unwrapped(struct[name])


def _text(value):
    """A MATLAB char array as a Python string."""
    return str(np.asarray(value).squeeze())


def _conv_layer(struct, source, name):
    """Kernel and bias of one conv struct, checked for shape."""
    weights = _field(struct, 'weights')
    if not isinstance(weights, np.ndarray) or weights.dtype != object or weights.size != 2:
        raise WeightsError('%s: layer %s has no (kernel, bias) pair in its '
                           '"weights" field' % (source, name))
    kernel, bias = (np.asarray(w, dtype=np.float32) for w in weights.flat)
    if kernel.ndim != 4:
        raise WeightsError('%s: layer %s has a kernel of shape %s, expected 4 '
                           'dimensions' % (source, name, kernel.shape))
    bias = bias.reshape(-1)
    if bias.shape[0] != kernel.shape[3]:
        raise WeightsError('%s: layer %s has %d biases for %d output channels'
                           % (source, name, bias.shape[0], kernel.shape[3]))
    return ConvLayer(np.ascontiguousarray(kernel), bias)


def _layout(mat, source):
    """'old' or 'new', from the top-level variables of the file."""
    if 'layers' not in mat:
        raise WeightsError('%s: not a MatConvNet network (no "layers" variable)'
                           % source)
    if 'meta' in mat:
        return 'new'
    if 'normalization' in mat or 'classes' in mat:
        return 'old'
    raise WeightsError('%s: unknown MatConvNet layout (has "layers" but neither '
                       '"meta" nor "normalization")' % source)


def check_chain(layers, source):
    """Each conv's kernel is 3x3 and takes the channels the one before gives."""
    for index, name in enumerate(CONV_LAYERS):
        if name not in layers:
            continue
        kernel = layers[name].kernel
        before = layers.get(CONV_LAYERS[index - 1]) if index else None
        channels = 3 if index == 0 else (
            before.kernel.shape[3] if before else kernel.shape[2])
        if kernel.shape[:2] != (3, 3) or kernel.shape[2] != channels:
            raise WeightsError(
                '%s: layer %s has kernel shape %s, expected (3, 3, %d, N): not '
                'the VGG-19 network' % (source, name, kernel.shape, channels))


def _load_mat(path):
    """loadmat of the layer list (and the layout markers), with clear errors."""
    if not os.path.exists(path):
        raise WeightsError('%s: file not found' % path)
    if os.path.isdir(path):
        raise WeightsError('%s: is a folder, not a weights file' % path)
    try:
        return scipy.io.loadmat(
            path, variable_names=('layers', 'meta', 'normalization', 'classes'))
    # A damaged file fails deep inside scipy in many ways (zlib, struct,
    # EOF, ValueError...); every one of them means the same thing here.
    except Exception as error:  # pylint: disable=broad-except
        detail = str(error).strip().splitlines()
        raise WeightsError('%s: not a readable MATLAB .mat file (truncated or '
                           'corrupt?): %s' % (path, detail[0] if detail else
                                              type(error).__name__)) from None


def read_vgg19(path, layers=CONV_LAYERS, kernel_layout='as-stored'):
    """Read the conv layers `layers` of a VGG-19 .mat file in either layout.

    Raises WeightsError, naming the file and the problem, when the file is
    missing, unreadable, of another network or lacks a layer asked for.
    """
    if kernel_layout not in KERNEL_LAYOUTS:
        raise ValueError('kernel_layout must be one of %s' % ', '.join(KERNEL_LAYOUTS))
    mat = _load_mat(path)
    layout = _layout(mat, path)
    cells = mat['layers']
    if cells is None or cells.dtype != object:
        raise WeightsError('%s: "layers" is not a cell array of layers' % path)
    wanted = set(layers)
    found = {}
    for cell in cells.flat:
        struct = _unwrapped(cell)
        if not (isinstance(struct, np.ndarray) and struct.dtype.names
                and 'name' in struct.dtype.names):
            raise WeightsError('%s: a layer is not a MatConvNet layer struct'
                               % path)
        struct = struct.flat[0]
        name = _text(_field(struct, 'name'))
        if name in wanted:
            if 'weights' not in struct.dtype.names:
                raise WeightsError('%s: layer %s has no weights' % (path, name))
            found[name] = _conv_layer(struct, path, name)
    missing = [name for name in layers if name not in found]
    if missing:
        raise WeightsError('%s: layer %s not found: not the VGG-19 network '
                           '(found %d layers)' % (path, missing[0], cells.size))
    check_chain(found, path)
    weights = VGGWeights(found, layout, path)
    return weights.transposed() if kernel_layout == 'transposed' else weights
