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


def gram_matrix(features, weights=None):
    """Eq. 3: G = F^T F, with F the features reshaped to (M, N); M may be unknown until run.

    With `weights` w ((1, H, W, 1), art.engine.guides) the guided Gram matrix
    sum_p w_p F_p F_p^T (arXiv 1611.07865, eq. 6 with w = the mask squared).
    """
    flat = tf.reshape(features, (-1, int(features.shape[3])))
    weighted = flat if weights is None else flat * tf.reshape(weights, (-1, 1))
    return tf.matmul(weighted, flat, transpose_a=True)


# Added to both covariances' diagonals, relative to the style's mean second moment.
COVARIANCE_FLOOR = 1e-4


def gaussian_moments(augmented):
    """(mean, covariance) from S = sum_p w_p [F_p, 1][F_p, 1]^T: mu = s / m, Sigma = G / m -
    mu mu^T, with m = S's last diagonal entry (the weights' total), s its last column."""
    filters = int(augmented.shape[0]) - 1
    count = augmented[filters, filters]
    mean = augmented[:filters, filters] / count
    covariance = augmented[:filters, :filters] / count - mean[:, None] * mean[None, :]
    return mean, covariance


def trace_sqrt(matrix):
    """tr(X^(1/2)) of a symmetric positive definite X: the sum of its eigenvalues' square
    roots (tf.linalg.eigvalsh's gradient holds where eigenvalues repeat)."""
    return tf.reduce_sum(tf.sqrt(tf.maximum(tf.linalg.eigvalsh(matrix), 0.0)))


def gaussian_wasserstein(value, target):
    """The squared 2-Wasserstein distance of the Gaussian fits of two feature sets, per filter:

        W = (|mu - mu_t|^2 + tr(Sigma) + tr(Sigma_t) - 2 tr((R Sigma R)^(1/2))) / N,
        R = Sigma_t^(1/2),

    with (mu, Sigma) of the painting's S (`value`) and (mu_t, Sigma_t) of the style's
    (`target`), each as gaussian_moments reads them; N filters. Both covariances get
    COVARIANCE_FLOOR times the style's mean second moment on their diagonal: a filter
    that never fires (or fewer positions than filters) leaves a covariance singular,
    where the square root's slope is infinite. Computed in float64 (the trace terms nearly
    cancel near the optimum); the result in `value`'s dtype.
    """
    mean, covariance = gaussian_moments(tf.cast(value, tf.float64))
    target_mean, target_covariance = gaussian_moments(tf.cast(target, tf.float64))
    filters = int(mean.shape[0])
    # The style's mean second moment sets the scale: its variance alone is 0 where the
    # layer has one position.
    scale = (tf.linalg.trace(target_covariance) + tf.reduce_sum(tf.square(target_mean))) / filters
    floor = (COVARIANCE_FLOOR * scale + 1e-30) * tf.eye(filters, dtype=tf.float64)
    covariance, target_covariance = covariance + floor, target_covariance + floor
    eigenvalues, vectors = tf.linalg.eigh(target_covariance)
    root = tf.matmul(vectors * tf.sqrt(tf.maximum(eigenvalues, 0.0)), vectors, transpose_b=True)
    product = tf.matmul(root, tf.matmul(covariance, root))
    distance = (tf.reduce_sum(tf.square(mean - target_mean)) + tf.linalg.trace(covariance)
                + tf.linalg.trace(target_covariance)
                - 2 * trace_sqrt(0.5 * (product + tf.transpose(product))))
    return tf.cast(distance / filters, value.dtype)


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
