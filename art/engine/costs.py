"""What one evaluation costs, counted from the layer shapes: FLOPs and memory.

Used to refuse sizes the machine cannot hold before any work is done, and by
the benchmark and --explain to say how close to the arithmetic we run.
"""
import math
import os

from art.constants import (CONTENT_LAYERS, LBFGS_HISTORY, LBFGS_STATE_LIMIT, MIN_LBFGS_HISTORY,
                           STYLE_LAYERS, STYLE_LOSSES)
from art.network.layers import CONV_LAYERS, VGG19_WIDTHS, block_of, deepest_layer

BYTES_PER_FLOAT = 4
# Fitted to peak resident memory measured on full-width and width/16 VGG-19s
# at 32x32, 400x300 and 800x600 (TensorFlow 2.21, oneDNN on):
# TensorFlow, the interpreter and their libraries, before any work;
BASE_BYTES = 620 * 2**20
# the weights as the caller holds them, the session's variables filled from
# them, and oneDNN's reordered copies;
WEIGHT_FACTOR = 3.5
# With the weights as constants (art.engine.cpu.weight_form), the copies of them
# TensorFlow keeps through its graph rewrites and executors besides: 586 MB more at
# 400x300 on a full-width network, weights 52 MB (bench/RESULTS.md).
CONSTANT_COPIES = 11
# forward outputs, pre-activations and the backward pass's buffers.
ACTIVATION_FACTOR = 2.7
# float64 copies of the image scipy's L-BFGS-B (1.17) holds besides its m pairs:
# five in its work array, its integer work (1.5), x, the start, the gradient
# (twice), its objective wrapper's x and best x, and the copy of x each call gets.
LBFGS_COPIES = 13
# float64 copies of the whole image a painting holds besides L-BFGS's: the
# objective's last image and gradient and the image it evaluates (float32),
# the evaluation's own whole-image arrays. Measured with LBFGS_COPIES: art's
# lbfgs on a NumPy painting of 36 million values holds 2m + 16 copies, m = 5
# and 10 (bench/RESULTS.md, "state").
IMAGE_COPIES = 3
# Python objects scipy (1.17) makes of per-value bounds (--pixel-bounds):
# minimize turns Bounds into a list of one (lower, upper) tuple per value and
# keeps it for the run. Measured at 800x600: 0.25 GiB more (about 190 bytes a
# value) and 6.5 s more Python at each L-BFGS start.
BOUNDS_BYTES_PER_VALUE = 190
# The deepest layer art.py's losses read (conv5_1): where its graph stops.
LAST_LAYER = deepest_layer([name for name, _ in CONTENT_LAYERS + STYLE_LAYERS])


def conv_shapes(height, width, widths=None, last_layer=LAST_LAYER):
    """(name, out_height, out_width, in_channels, out_channels) of each conv up to last_layer."""
    widths = widths or VGG19_WIDTHS
    shapes, channels, block = [], 3, 1
    for name in CONV_LAYERS:
        if block_of(name) != block:
            block = block_of(name)
            height, width = math.ceil(height / 2), math.ceil(width / 2)
        shapes.append((name, height, width, channels, widths[block]))
        channels = widths[block]
        if name == last_layer:
            break
    return shapes


def evaluation_flops(height, width, style_layers, widths=None, last_layer=LAST_LAYER):
    """FLOPs of one loss+gradient evaluation, by part.

    forward: every conv up to last_layer (2 per multiply-add); backward: the
    same convs' gradients with respect to their inputs (the weights are
    not trained, so no filter gradients); gram: G = F^T F for each style layer
    and its gradient (two more products of the same size).
    """
    shapes = conv_shapes(height, width, widths, last_layer)
    forward = sum(2 * h * w * 9 * cin * cout for _, h, w, cin, cout in shapes)
    by_name = {name: (h * w, cout) for name, h, w, _, cout in shapes}
    gram = sum(3 * 2 * by_name[layer][0] * by_name[layer][1] ** 2
               for layer in style_layers)
    return {'forward': forward, 'backward': forward, 'gram': gram,
            'total': 2 * forward + gram}


def activation_bytes(height, width, widths=None, last_layer=LAST_LAYER):
    """Bytes of the conv outputs (and pooled maps) a forward pass keeps."""
    shapes = conv_shapes(height, width, widths, last_layer)
    convs = sum(h * w * cout for _, h, w, _, cout in shapes)
    pooled = sum(h * w * cin for name, h, w, cin, _ in shapes
                 if name.endswith('_1') and name != 'conv1_1')
    return BYTES_PER_FLOAT * (convs + pooled)


def statistic_bytes(height, width, style_layers, style_loss, widths=None,
                    last_layer=LAST_LAYER):
    """Bytes the style statistic adds at height x width: the float32 copies of each style
    layer's features it holds beyond the network's (STYLE_LOSSES: none for the Gram matrix;
    mean-covariance's float64 features and their column of ones, forward and backward)."""
    copies = STYLE_LOSSES[style_loss]
    return sum(copies * BYTES_PER_FLOAT * h * w * (cout + 1) for name, h, w, _, cout
               in conv_shapes(height, width, widths, last_layer) if name in style_layers)


def weight_bytes(widths=None, last_layer=LAST_LAYER):
    """Bytes of the conv kernels and biases up to last_layer."""
    return BYTES_PER_FLOAT * sum(9 * cin * cout + cout for _, _, _, cin, cout
                                 in conv_shapes(1, 1, widths, last_layer))


def held_weight_bytes(widths=None, last_layer=LAST_LAYER, weight_form='variables'):
    """Bytes the weights cost a painting that holds them in `weight_form`."""
    copies = WEIGHT_FACTOR + (CONSTANT_COPIES if weight_form == 'constants' else 0)
    return copies * weight_bytes(widths, last_layer)


def estimate_memory(height, width, widths=None, last_layer=LAST_LAYER,
                    lbfgs_history=LBFGS_HISTORY, weight_form='variables'):
    """Peak resident bytes of a painting at height x width, estimated.

    L-BFGS keeps `lbfgs_history` pairs of float64 vectors the size of the
    image, plus a few more for its work; the objective holds IMAGE_COPIES.
    """
    return int(BASE_BYTES + held_weight_bytes(widths, last_layer, weight_form)
               + ACTIVATION_FACTOR * activation_bytes(height, width, widths, last_layer)
               + held_copies_bytes(height, width, lbfgs_history))


def optimizer_bytes(height, width, lbfgs_history):
    """Bytes of L-BFGS-B's state: `lbfgs_history` pairs of float64 vectors the size of the
    image, plus LBFGS_COPIES more for its work."""
    return 8 * height * width * 3 * (2 * lbfgs_history + LBFGS_COPIES)


def held_copies_bytes(height, width, lbfgs_history):
    """Bytes of the whole-image copies a run holds however it evaluates: L-BFGS-B's state
    and the painting's IMAGE_COPIES (2m + 16 float64 copies, measured)."""
    return optimizer_bytes(height, width, lbfgs_history) + IMAGE_COPIES * 8 * height * width * 3


def bounds_bytes(height, width):
    """Bytes of the per-value bounds scipy's L-BFGS-B keeps with --pixel-bounds."""
    return BOUNDS_BYTES_PER_VALUE * height * width * 3


def lbfgs_history_for(height, width):
    """The default L-BFGS history at height x width: LBFGS_HISTORY pairs, or as many as keep
    L-BFGS's state within LBFGS_STATE_LIMIT, but at least MIN_LBFGS_HISTORY."""
    pairs = (LBFGS_STATE_LIMIT // (8 * height * width * 3) - LBFGS_COPIES) // 2
    return int(min(LBFGS_HISTORY, max(MIN_LBFGS_HISTORY, pairs)))


def estimate_tiled_memory(height, width, crop, widths=None, last_layer=LAST_LAYER,
                          lbfgs_history=LBFGS_HISTORY, weight_form='variables'):
    """Peak resident bytes of a painting at height x width evaluated on crops of `crop`
    (height, width) pixels, estimated.

    One crop's activations instead of the image's; the crop graph's weight
    variables; the whole image's copies the evaluation and the objective hold
    (IMAGE_COPIES) and L-BFGS's state, which at print sizes are the largest
    part.
    """
    return int(BASE_BYTES + held_weight_bytes(widths, last_layer, weight_form)
               + 2 * weight_bytes(widths, last_layer)
               + ACTIVATION_FACTOR * activation_bytes(*crop, widths, last_layer)
               + held_copies_bytes(height, width, lbfgs_history))


def proc_bytes(path, field):
    """A size in kB that a Linux /proc file gives as `field:`, in bytes; None elsewhere."""
    try:
        with open(path) as lines:
            for line in lines:
                if line.startswith(field + ':'):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def available_memory():
    """Bytes of memory the machine can give a new process now (Linux's
    MemAvailable), or its physical memory where that is not known."""
    return (proc_bytes('/proc/meminfo', 'MemAvailable')
            or os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES'))
