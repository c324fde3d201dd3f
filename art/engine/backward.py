"""The image's gradient with the convolutions' backward pass in bfloat16 ('mixed').

tf.gradients builds the backward pass in the forward pass's float32. Here it
is built layer by layer instead, down VGG's chain: each loss term's own
derivative at its layer (float32, from the exact forward pass), then for each
conv the ReLU's mask in float32 and the product with the kernel
(Conv2DBackpropInput, most of the backward pass's work) in `dtype`, and
pooling's gradient in float32. The loss stays exact: the forward pass is
float32's; only the gradient carries bfloat16's rounding, relative to the
gradient itself, so it does not grow as the loss falls (bench/RESULTS.md).
"""
from art.engine.terms import IMAGE
from art.engine.tf1 import tf, tf1

STRIDES = [1, 1, 1, 1]
# jcjohnson's: a term's gradient g becomes g / (|g|_1 + NORM_EPSILON).
NORM_EPSILON = 1e-8


def _sum(first, second):
    """first + second, where either may be None (no gradient)."""
    if first is None or second is None:
        return second if first is None else first
    return first + second


def _conv_backward(gradient, conv, before, kernel, dtype):
    """d/d(before) of conv = ReLU(conv2d(before, kernel) + b), given d/d(conv)."""
    masked = tf.raw_ops.ReluGrad(gradients=gradient, features=conv)
    product = tf1.nn.conv2d_backprop_input(tf.shape(before), tf.cast(kernel, dtype),
                                           tf.cast(masked, dtype), strides=STRIDES,
                                           padding='SAME')
    return tf.cast(product, gradient.dtype)


def image_gradient(model, loss, dtype=tf.bfloat16):
    """d loss / d image of a model from art.engine.vgg.load_vgg_model, the convolutions'
    products in `dtype` (float32 gives tf.gradients' own result)."""
    chain = [model['input_value']] + [model[name] for name in model['layers']]
    own = tf1.gradients(loss, chain, stop_gradients=chain)
    gradient = None
    for index in range(len(chain) - 1, 0, -1):
        gradient = _sum(gradient, own[index])
        if gradient is None:
            continue
        name, after, before = model['layers'][index - 1], chain[index], chain[index - 1]
        if name.startswith('conv'):
            gradient = _conv_backward(gradient, after, before, model['kernels'][name], dtype)
        else:
            gradient = tf1.gradients(after, before, grad_ys=gradient)[0]
    return _sum(gradient, own[0])


def normalized_surrogate(objective, model, term_losses):
    """A scalar whose gradient is the objective's with each term's gradient at its layer
    scaled to unit L1 norm (Objective.normalize_gradients), times the term's weight:
    sum over layers of <stop_gradient(upstream), F>, plus the IMAGE terms' weighted
    losses. Its value is not a loss; its gradient serves tf.gradients, the 'mixed'
    backward pass and Adam alike."""
    parts = []
    for term, loss in zip(objective.terms, term_losses):
        if term.kind == IMAGE:
            parts.append(objective.factor(term) * loss)
            continue
        features = model[term.layer]
        gradient = tf1.gradients(loss, features)[0]
        scale = objective.factor(term) / (tf.reduce_sum(tf.abs(gradient)) + NORM_EPSILON)
        parts.append(tf.reduce_sum(tf.stop_gradient(scale * gradient) * features))
    return tf.add_n(parts)
