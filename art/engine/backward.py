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
from art.engine.tf1 import tf, tf1

STRIDES = [1, 1, 1, 1]


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
