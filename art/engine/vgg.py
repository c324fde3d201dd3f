"""VGG-19 as a TF1 graph, built the way art.py's `load_vgg_model` built it.

Conv weights and biases become `tf.constant`s, as in art.py; the input image is
the one `tf.Variable` of the graph. Each conv is `conv2d` (stride 1, SAME) plus
bias, then ReLU; pooling is 2x2 with stride 2, average by default as the paper
advises. The fully connected layers are never built.

With weights='variables' each weight lives in an untrainable variable outside the
graph's collections, filled once per session by `initialize`. TensorFlow copies a
constant through every graph rewrite and into every executor a session builds (one per
set of fetches), which costs memory and start-up; a variable is held once. But oneDNN's
AVX2 kernels handle a kernel that is not a constant far worse: evaluations 1.2-1.35x
slower at 400x300, and at 1600x1200 a capture that had not ended after 500 s against 18 s
(bench/RESULTS.md). The engine takes the form art.engine.cpu.weight_form chooses for the
CPU.
"""
import numpy as np
from art.engine.tf1 import tf, tf1

from art.constants import COLOR_CHANNELS
from art.network.layers import convs_up_to, layer_names
from art.network.weights import VGGWeights, read_vgg19


POOLING = {'avg': tf.nn.avg_pool2d, 'max': tf.nn.max_pool2d}  # by art.network.layers.POOLINGS
WEIGHT_FORMS = ('constants', 'variables')


def _conv2d_relu(prev_layer, kernel, bias):
    """ReLU(conv2d(prev_layer, W) + b) with the kernel W and bias b."""
    return tf.nn.relu(tf.nn.conv2d(prev_layer, filters=kernel, strides=[1, 1, 1, 1],
                                   padding='SAME') + bias)


def _weight(array, weights, feed, initializers):
    """One kernel or bias as the graph reads it: a tf.constant, or with
    weights='variables' a non-trainable variable whose initializer (added to
    `initializers`) fills it from a placeholder that `feed` maps to `array`."""
    if weights == 'constants':
        return tf.constant(array)
    value = tf1.placeholder(tf.float32, array.shape)
    variable = tf1.Variable(value, trainable=False, collections=[], use_resource=True)
    feed[value] = array
    initializers.append(variable.initializer)
    return variable.value()


def initialize(session, model):
    """Zero `model`'s image variable in `session` and fill its weight variables, if any."""
    session.run(model['initialize'], model['weights_feed'])


def _pool(prev_layer, pooling):
    """2x2 pooling with stride 2, SAME padding."""
    return POOLING[pooling](prev_layer, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1],
                            padding='SAME')


def _input(image_height, image_width):
    """The image variable and the single way images enter it.

    `image` is a placeholder that defaults to the variable's own value;
    `assign_input` stores it in the variable, and the network reads the
    variable only after that assignment, within the same `sess.run`. So
    feeding `image` sets the variable and evaluates on it in one run (what
    L-BFGS needs), while a run that feeds nothing sees the variable as it is
    (what Adam's steps and art.py's captures need).
    """
    shape = (1, image_height, image_width, COLOR_CHANNELS)
    variable = tf1.Variable(np.zeros(shape), dtype='float32', name='input',
                            use_resource=True)
    image = tf1.placeholder_with_default(variable.read_value(), shape, name='image')
    assign_input = variable.assign(image, read_value=False, name='assign_input')
    with tf.control_dependencies([assign_input]):
        input_value = tf.identity(variable.read_value(), name='input_value')
    return variable, image, assign_input, input_value


def load_vgg_model(path, image_height, image_width, pooling='avg',
                   last_layer=None, kernel_layout='as-stored', weights='constants'):
    """Build VGG-19 into the default graph and return its tensors by name.

    The network whose features define the paper's losses (sec. 2). Where
    art.py departs from the paper's setup, it is followed: kernels are used
    as stored in the .mat file, which read from Python is (width, height) and
    so mirrors each 3x3 kernel against the original Caffe network
    (kernel_layout='transposed' reads them as anishathalye's vgg.py does);
    pooling is average, as the paper advises, where VGG has max.

    `path` is a MatConvNet .mat file (either layout) or VGGWeights already
    read. The dict has art.py's keys, 'input' (the tf.Variable holding the
    image, shape (1, H, W, 3)) and 'conv1_1' ... 'conv5_4', 'avgpool1' ...
    'avgpool5' ('maxpool1' ... with pooling='max'), plus 'image' (the
    placeholder that feeds images in), 'assign_input' (the op that stores
    it), 'input_value' (the image the network sees), 'layers' (the names
    built, in order), 'kernels' (each conv's kernel tensor), and 'initialize' with
    its 'weights_feed' (what `initialize` runs). With `last_layer`, the graph
    stops there: layers the losses do not use cost nothing. `weights` is
    'constants' (art.py's) or 'variables' (the engine's; see the module's doc).
    """
    if pooling not in POOLING:
        raise ValueError('pooling must be one of %s' % ', '.join(sorted(POOLING)))
    if weights not in WEIGHT_FORMS:
        raise ValueError('weights must be one of %s' % ', '.join(WEIGHT_FORMS))
    names = layer_names(pooling)
    last_layer = last_layer or names[-1]
    convs = convs_up_to(last_layer, pooling)
    names = names[:names.index(last_layer) + 1]
    stored = path if isinstance(path, VGGWeights) else read_vgg19(
        path, layers=convs, kernel_layout=kernel_layout)

    graph = {}
    graph['input'], graph['image'], graph['assign_input'], current = _input(
        image_height, image_width)
    graph['input_value'] = current
    graph['layers'], graph['kernels'], graph['weights_feed'] = tuple(names), {}, {}
    initializers = [graph['input'].initializer]
    for name in names:
        if name.startswith('conv'):
            layer = stored.layers[name]
            kernel, bias = (_weight(array, weights, graph['weights_feed'], initializers)
                            for array in (layer.kernel, layer.bias))
            graph['kernels'][name] = kernel
            current = _conv2d_relu(current, kernel, bias)
        else:
            current = _pool(current, pooling)
        graph[name] = current
    graph['initialize'] = tf.group(*initializers)
    return graph
