"""The peer: the same evaluation written the plain TF2 way.

Eager TensorFlow, `tf.GradientTape` inside a `tf.function`, the weights as
constants, the same losses and weights as art.py. Timed side by side with
the TF1 graph in bench/run.py.
"""
from art.constants import ALPHA, BETA, CONTENT_LAYERS, STYLE_LAYERS
from art.network.layers import CONV_LAYERS
from art.engine.tf1 import tf


def make_loss_and_gradient(weights, content, style):
    """A tf.function x -> (total loss, d total / d x) for this content and style."""
    layers = {name: (tf.constant(layer.kernel), tf.constant(layer.bias))
              for name, layer in weights.layers.items()}
    last = CONV_LAYERS.index('conv5_1')

    def features(image):
        out, current = {}, image
        for name in CONV_LAYERS[:last + 1]:
            if name.endswith('_1') and name != 'conv1_1':
                current = tf.nn.avg_pool2d(current, 2, 2, 'SAME')
            kernel, bias = layers[name]
            current = tf.nn.relu(tf.nn.conv2d(current, kernel, 1, 'SAME') + bias)
            out[name] = current
        return out

    def gram(feature):
        flat = tf.reshape(feature, (-1, feature.shape[3]))
        return tf.matmul(flat, flat, transpose_a=True)

    content_targets = features(tf.constant(content))
    style_features = features(tf.constant(style))
    targets = {name: content_targets[name] for name, _ in CONTENT_LAYERS}
    grams = {name: gram(style_features[name]) for name, _ in STYLE_LAYERS}

    @tf.function
    def loss_and_gradient(image):
        with tf.GradientTape() as tape:
            tape.watch(image)
            out = features(image)
            content_loss = 0.0
            for name, weight in CONTENT_LAYERS:
                n, m = out[name].shape[3], out[name].shape[1] * out[name].shape[2]
                content_loss += weight * tf.reduce_sum((out[name] - targets[name]) ** 2) / (4 * n * m)
            style_loss = 0.0
            for name, weight in STYLE_LAYERS:
                n, m = out[name].shape[3], out[name].shape[1] * out[name].shape[2]
                style_loss += weight * tf.reduce_sum((gram(out[name]) - grams[name]) ** 2) / (
                    4 * n ** 2 * m ** 2)
            total = BETA * content_loss + ALPHA * style_loss
        return total, tape.gradient(total, image)

    return loss_and_gradient
