"""The losses of Gatys, Ecker & Bethge (arXiv 1508.06576), as art.py wrote them.

Targets are captured the TF1 way: the image is assigned to the model's
variable, `sess.run` evaluates a layer (or its Gram matrix), and the numpy
array that comes back enters the graph as a constant. The loss tensors then
depend on that constant and on the variable only.

Where art.py departs from the paper, it is followed:
- content loss normalised by 1/(4NM) instead of the paper's 1/2 (eq. 1);
- style layers weighted 0.5, 1, 1.5, 3, 4 instead of equally (eq. 5);
- total = BETA * content + ALPHA * style with BETA 5, ALPHA 100 (eq. 7).
"""
from art.engine.tf1 import tf

from art.constants import ALPHA, BETA, CONTENT_LAYERS, STYLE_LAYERS


def feature_sizes(shape):
    """N (filters) and M (height x width) of a (1, H, W, N) feature map's shape."""
    _, height, width, filters = (int(d) for d in shape)
    return filters, height * width


def content_normalisation(filters, positions):
    """art.py's constant of eq. 1 for a layer of N filters and M positions: 1/(4NM)."""
    return 1 / (4 * filters * positions)


def style_normalisation(filters, positions):
    """The constant of eq. 4 for a layer of N filters and M positions: 1/(4 N^2 M^2)."""
    return 1 / (4 * filters**2 * positions**2)


def content_layer_loss(p, x, positions=None):
    """Eq. 1 with art.py's normalisation: 1/(4NM) * sum((x - p)^2).

    The paper has 1/2 * sum((x - p)^2); art.py took the style loss's kind of
    constant instead, which balances BETA and ALPHA differently.

    p is the content image's features (a numpy constant), x the generated
    image's features at the same layer; M is x's positions unless `positions`
    says the whole image's (x a crop's part of it).
    """
    filters, own = feature_sizes(x.shape) if positions is None else (int(x.shape[3]), positions)
    return content_normalisation(filters, own) * tf.reduce_sum(tf.pow(x - p, 2))


def capture_content_targets(sess, model, layers=CONTENT_LAYERS):
    """p for each content layer: sess.run of the layer on the image now in
    model['input'], a numpy array (the content representation of eq. 1)."""
    return {layer: sess.run(model[layer]) for layer, _ in layers}


def content_loss(model, targets, layers=CONTENT_LAYERS):
    """Weighted sum of eq. 1 over `layers`, each against its captured target."""
    return sum(weight * content_layer_loss(targets[layer], model[layer])
               for layer, weight in layers)


def content_loss_func(sess, model, layers=CONTENT_LAYERS):
    """Content loss of the image now assigned to model['input'] as the target.

    For each (layer, weight), p = sess.run(model[layer]) is captured as a
    numpy array and the weighted eq. 1 losses are summed, each normalised by
    art.py's 1/(4NM) where the paper has 1/2. art.py: conv4_2.
    """
    return content_loss(model, capture_content_targets(sess, model, layers), layers)


def gram_matrix(features):
    """Eq. 3: G = F^T F, with F the features reshaped to (M, N); M may be unknown until run."""
    flat = tf.reshape(features, (-1, int(features.shape[3])))
    return tf.matmul(flat, flat, transpose_a=True)


def style_layer_loss(a_gram, g_gram, filters, positions):
    """Eq. 4: E_l = 1/(4 N^2 M^2) * sum((G - A)^2).

    a_gram is the style image's Gram matrix A (a numpy constant), g_gram the
    generated image's G at the same layer.
    """
    return style_normalisation(filters, positions) * tf.reduce_sum(tf.pow(g_gram - a_gram, 2))


def gram_matrices(model, layers=STYLE_LAYERS):
    """The Gram op of each style layer, built once: it serves both capture and loss."""
    return {layer: gram_matrix(model[layer]) for layer, _ in layers}


def capture_style_targets(sess, grams):
    """A for each style layer: sess.run of its Gram op on the image now in
    model['input'], a numpy array (the style representation of eq. 4)."""
    return sess.run(grams)


def style_loss(model, grams, targets, layers=STYLE_LAYERS):
    """Eq. 5: sum over layers of weight * E_l, each against its captured A."""
    return sum(weight * style_layer_loss(targets[layer], grams[layer], *feature_sizes(model[layer].shape))
               for layer, weight in layers)


def style_loss_func(sess, model, layers=STYLE_LAYERS):
    """Style loss (eq. 5) of the image now assigned to model['input'] as the target.

    Each layer's Gram op is built once: sess.run of it captures the style
    image's A as a numpy array, and the same op gives the generated image's
    G in the loss. art.py: conv1_1..conv5_1 weighted 0.5, 1, 1.5, 3, 4
    (the paper weighs the layers it uses equally).
    """
    grams = gram_matrices(model, layers)
    return style_loss(model, grams, capture_style_targets(sess, grams), layers)


def total_loss_func(content_loss, style_loss, content_weight=BETA, style_weight=ALPHA):
    """Eq. 7: content_weight * content + style_weight * style.

    The paper's alpha and beta; art.py's BETA (5) and ALPHA (100).
    """
    return content_weight * content_loss + style_weight * style_loss


def total_variation_loss(image):
    """Total variation: the sum of squared differences of neighbouring pixels.

    Not in the paper or art.py; the later implementations (jcjohnson's,
    anishathalye's) add it, weighted, to smooth high-frequency noise.
    """
    down = image[:, 1:, :, :] - image[:, :-1, :, :]
    right = image[:, :, 1:, :] - image[:, :, :-1, :]
    return tf.reduce_sum(tf.square(down)) + tf.reduce_sum(tf.square(right))
