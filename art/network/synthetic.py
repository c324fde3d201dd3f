"""Synthetic VGG-19 networks: random weights in MatConvNet's exact layouts.

The real `imagenet-vgg-verydeep-19.mat` (510 MB) cannot always be had, so the
reader, the graph and the optimizers are tested on networks made here. They
have the real network's 43 layers, names and order, and can be written to a
.mat file in either of the two layouts that `art.network.weights` reads.

Their weights are random: a painting made with them shows no style at all.
Everything that reports results says so when one is in use.
"""
import os

import numpy as np
import scipy.io

from art.network.layers import CONV_LAYERS, VGG19_LAYERS, VGG19_WIDTHS, block_of
from art.network.weights import ConvLayer, VGGWeights

# The real fully connected layers, as convolutions: (kh, kw, in, out).
FULL_FC_SHAPES = {'fc6': (7, 7, 512, 4096), 'fc7': (1, 1, 4096, 4096),
                  'fc8': (1, 1, 4096, 1000)}
SYNTHETIC_NOTE = ('synthetic VGG-19 with random weights: the output shows the '
                  'optimizer at work, not an artistic style')


def _conv_shapes(width_divisor):
    """(kh, kw, in, out) of each conv layer with widths divided by width_divisor."""
    shapes, channels = {}, 3
    for name in CONV_LAYERS:
        width = max(1, VGG19_WIDTHS[block_of(name)] // width_divisor)
        shapes[name] = (3, 3, channels, width)
        channels = width
    return shapes


def synthetic_conv_layers(width_divisor=1, seed=0):
    """Deterministic He-initialised kernels and small biases for every conv layer."""
    rng = np.random.default_rng(seed)
    layers = {}
    for name, shape in _conv_shapes(width_divisor).items():
        fan_in = shape[0] * shape[1] * shape[2]
        kernel = rng.standard_normal(shape, dtype=np.float32) * np.float32(np.sqrt(2.0 / fan_in))
        bias = rng.standard_normal(shape[3], dtype=np.float32) * np.float32(0.01)
        layers[name] = ConvLayer(kernel, bias)
    return layers


def synthetic_weights(width_divisor=1, seed=0):
    """A generated VGG-19 in memory, as `art.network.weights.read_vgg19` would return it."""
    return VGGWeights(synthetic_conv_layers(width_divisor, seed), 'generated',
                      '%s (seed %d, widths / %d)' % (SYNTHETIC_NOTE, seed, width_divisor))


def _fc_shapes(width_divisor, full_fc):
    """Shapes of fc6..fc8: the real ones, or tiny ones that keep the file small."""
    if full_fc:
        return dict(FULL_FC_SHAPES)
    last = max(1, VGG19_WIDTHS[5] // width_divisor)
    return {'fc6': (1, 1, last, 8), 'fc7': (1, 1, 8, 8), 'fc8': (1, 1, 8, 8)}


def _cell(items):
    """A MATLAB 1xN cell array."""
    cell = np.empty((1, len(items)), dtype=object)
    for index, item in enumerate(items):
        cell[0, index] = item
    return cell


def _layer_struct(name, kernel, bias, layout):
    """One layer as MatConvNet stores it, fields in the layout's order."""
    kind = ('conv' if kernel is not None else 'relu' if name.startswith('relu')
            else 'pool' if name.startswith('pool') else 'softmax')
    if layout == 'old':
        if kind == 'conv':
            return {'weights': _cell([kernel, bias.reshape(1, -1)]),
                    'pad': np.ones((1, 4)), 'type': 'conv', 'name': name,
                    'stride': np.ones((1, 2))}
        if kind == 'pool':
            return {'name': name, 'stride': np.full((1, 2), 2.0),
                    'pad': np.zeros((1, 4)), 'type': 'pool', 'method': 'max',
                    'pool': np.full((1, 2), 2.0)}
        return {'type': kind, 'name': name}
    if kind == 'conv':
        return {'name': name, 'type': 'conv',
                'weights': _cell([kernel, bias.reshape(-1, 1)]),
                'size': np.array([kernel.shape], dtype=float),
                'pad': np.ones((1, 4)), 'stride': np.ones((1, 2)),
                'precious': False, 'dilate': np.ones((1, 2)), 'opts': _cell([])}
    if kind == 'pool':
        return {'name': name, 'type': 'pool', 'method': 'max',
                'pool': np.full((1, 2), 2.0), 'stride': np.full((1, 2), 2.0),
                'pad': np.zeros((1, 4)), 'precious': False, 'opts': _cell([])}
    if kind == 'relu':
        return {'name': name, 'type': 'relu', 'leak': 0.0, 'precious': False}
    return {'name': name, 'type': 'softmax', 'precious': False}


def _top_level(layers, layout, classes):
    """The file's variables besides `layers`, as each layout has them."""
    names = _cell(['class%d' % i for i in range(classes)])
    class_struct = {'name': names, 'description': names}
    if layout == 'old':
        average = np.empty((224, 224, 3), dtype=np.float32)
        average[...] = np.array([123.68, 116.779, 103.939], dtype=np.float32)
        return {'layers': layers,
                'normalization': {'averageImage': average,
                                  'keepAspect': np.uint8(1),
                                  'border': np.array([[32.0, 32.0]]),
                                  'imageSize': np.array([[224.0, 224.0, 3.0]]),
                                  'interpolation': 'bilinear'},
                'classes': class_struct}
    return {'layers': layers,
            'meta': {'inputs': {'name': 'input',
                                'size': np.array([[224.0, 224.0, 3.0, 10.0]])},
                     'classes': class_struct,
                     'normalization': {
                         'imageSize': np.array([[224.0, 224.0, 3.0, 10.0]]),
                         'averageImage': np.array([[123.68], [116.779], [103.939]]),
                         'keepAspect': True, 'border': np.array([[32.0, 32.0]]),
                         'cropSize': np.array([[0.875, 0.875]]),
                         'interpolation': 'bilinear'}}}


def write_synthetic_vgg19(path, layout='old', width_divisor=8, seed=0,
                          full_fc=False, conv_layers=None):
    """Write a VGG-19 .mat file in MatConvNet's 'old' or 'new' layout.

    `conv_layers` (name -> ConvLayer) gives the conv weights; by default they
    are `synthetic_conv_layers(width_divisor, seed)`. fc6..fc8 are random, of
    the real shapes with `full_fc` (a file of about 550 MB) or tiny otherwise.
    The file is written beside `path` and renamed into place when complete.
    """
    if layout not in ('old', 'new'):
        raise ValueError('layout must be "old" or "new"')
    if conv_layers is None:
        conv_layers = synthetic_conv_layers(width_divisor, seed)
    rng = np.random.default_rng(seed + 1)
    fc = {name: ConvLayer(rng.standard_normal(shape, dtype=np.float32) * np.float32(0.01),
                          np.zeros(shape[3], dtype=np.float32))
          for name, shape in _fc_shapes(width_divisor, full_fc).items()}
    weights = dict(conv_layers, **fc)
    structs = [_layer_struct(name, *(weights[name] if name in weights else (None, None)),
                             layout=layout) for name in VGG19_LAYERS]
    variables = _top_level(_cell(structs), layout, fc['fc8'].bias.shape[0])
    partial = '%s.partial-%d' % (path, os.getpid())
    try:
        with open(partial, 'wb') as handle:
            scipy.io.savemat(handle, variables, do_compression=False)
        os.replace(partial, path)
    finally:
        if os.path.exists(partial):
            os.remove(partial)
    return path
