"""The painting: art.py's main block as a graph built once and an optimizer loop.

Steps, in art.py's order:
1. build VGG-19 with the image as its one tf.Variable (`load_vgg_model`);
2. assign the content image, capture conv4_2 with sess.run (content loss);
3. assign the style image, capture the Gram matrices (style loss);
4. total = BETA * content + ALPHA * style, its gradient, the optimizer's ops;
5. finalize the graph, start from the noise/content mix and optimize.

`stylize` runs all of it and yields an `Iterate` per optimizer iteration.
"""
import collections
import os

import numpy as np

from art import images, losses
from art.constants import (ALPHA, BETA, CONTENT_LAYERS, LEARNING_RATE,
                           MEAN_VALUES, NOISE_RATIO, STYLE_LAYERS)
from art.lbfgs import StopOptimization, lbfgs_iterates
from art.network import deepest_layer
from art.tf1 import tf, tf1
from art.vgg import load_vgg_model


OPTIMIZERS = ('lbfgs', 'adam')

# One state of the painting: `image` (network space) and its losses, after
# `iteration` optimizer iterations and `evaluations` loss+gradient evaluations.
Iterate = collections.namedtuple(
    'Iterate', 'iteration evaluations content_loss style_loss total_loss image')


class NonFiniteLoss(ArithmeticError):
    """The loss became NaN or infinite; the last finite iterate is the result."""


def session_config():
    """Thread pools sized to the cores this process may use.

    TensorFlow's default (0, 0) measured about 10% slower here than explicit
    pools of that size (VGG-19 at 400x300, 2 cores).
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()
    return tf1.ConfigProto(intra_op_parallelism_threads=cores,
                           inter_op_parallelism_threads=cores)


def pixel_bounds(shape):
    """Lower and upper bounds (network space) that keep pixels within 0..255."""
    lower = np.broadcast_to(-MEAN_VALUES, shape).astype(np.float64).ravel()
    return lower, lower + 255.0


class Painting:
    """The graph, session and loss tensors for one content image and its styles.

    Everything is built in the constructor and the graph is finalized there,
    so optimizing adds no op. `optimizer` ('lbfgs' or 'adam') must be chosen
    up front because Adam's update ops are part of the graph.

    `style_image` is one image or a list; their Gram matrices are blended
    with `style_blend_weights` (normalised to sum 1; equal by default). A
    style image of the content's size is captured through the model's own
    variable, as art.py did; one of another size in a graph of its size.
    `tv_weight` adds a total variation term to the total loss.
    """

    def __init__(self, weights, content_image, style_image,
                 content_layers=CONTENT_LAYERS, style_layers=STYLE_LAYERS,
                 beta=BETA, alpha=ALPHA, pooling='avg', optimizer='lbfgs',
                 learning_rate=LEARNING_RATE, style_blend_weights=None, tv_weight=0.0,
                 config=None):
        if optimizer not in OPTIMIZERS:
            raise ValueError('optimizer must be one of %s' % ', '.join(OPTIMIZERS))
        style_images = list(style_image) if isinstance(style_image, (list, tuple)) else [style_image]
        blend = blend_weights(style_blend_weights, len(style_images))
        _, height, width, _ = np.shape(content_image)
        self.shape = tuple(np.shape(content_image))
        self.optimizer = optimizer
        self.evaluations = 0
        self.graph = tf.Graph()
        with self.graph.as_default():
            used = [layer for layer, _ in tuple(content_layers) + tuple(style_layers)]
            self.last_layer = deepest_layer(used, pooling)
            self.model = load_vgg_model(weights, height, width, pooling,
                                        last_layer=self.last_layer)
            self.sess = tf1.Session(graph=self.graph, config=config or session_config())
            self.sess.run(self.model['input'].initializer)
            self.assign(content_image)
            self.content_targets = losses.capture_content_targets(
                self.sess, self.model, content_layers)
            self.content_loss = losses.content_loss(self.model, self.content_targets,
                                                    content_layers)
            grams = losses.gram_matrices(self.model, style_layers)
            self.style_targets = self._style_targets(weights, style_images, blend, grams,
                                                     style_layers, pooling)
            self.style_loss = losses.style_loss(self.model, grams, self.style_targets,
                                                style_layers)
            self.total_loss = losses.total_loss_func(self.content_loss, self.style_loss,
                                                     beta, alpha)
            if tv_weight:
                self.total_loss += tv_weight * losses.total_variation_loss(
                    self.model['input_value'])
            self.gradient = tf1.gradients(self.total_loss, self.model['input'])[0]
            self.train_step = None
            if optimizer == 'adam':
                self.train_step = tf1.train.AdamOptimizer(learning_rate).minimize(
                    self.total_loss, var_list=[self.model['input']])
            self.initialize = tf1.global_variables_initializer()
        self.graph.finalize()
        self._losses = (self.content_loss, self.style_loss, self.total_loss)
        # The last L-BFGS evaluation: x, (content, style, total), gradient.
        self._last = None
        self.max_evaluations = None

    def _style_targets(self, weights, style_images, blend, grams, style_layers, pooling):
        """A for each style layer: the blend of every style image's Gram matrix."""
        targets = {layer: 0 for layer, _ in style_layers}
        for image, share in zip(style_images, blend):
            if np.shape(image) == self.shape:
                self.assign(image)
                captured = losses.capture_style_targets(self.sess, grams)
            else:
                captured = capture_grams_at_size(weights, image, style_layers, pooling,
                                                 self.model)
            for layer in targets:
                targets[layer] = targets[layer] + share * captured[layer]
        return targets

    def close(self):
        """Release the session."""
        self.sess.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def assign(self, image):
        """Store `image` in the model's variable with the one assign op."""
        self.sess.run(self.model['assign_input'], {self.model['image']: image})

    def evaluate(self, image):
        """Losses and gradient at `image`, in one sess.run that also assigns it.

        Returns (content, style, total, gradient) as numpy values.
        """
        content, style, total, gradient = self.sess.run(
            self._losses + (self.gradient,), {self.model['image']: image})
        self.evaluations += 1
        return content, style, total, gradient

    def losses_at(self, image=None):
        """(content, style, total) at `image`, or at the variable's image: forward only."""
        feed = None if image is None else {self.model['image']: image}
        return self.sess.run(self._losses, feed)

    def _lbfgs_objective(self, x):
        """scipy's objective: float64 x in, (total, float64 gradient) out.

        The last evaluation is remembered: scipy asks again for the start,
        and iterates are reported with the losses of their own evaluation.
        """
        if self._last is None or not np.array_equal(self._last[0], x):
            if self.max_evaluations is not None and self.evaluations >= self.max_evaluations:
                raise StopOptimization('evaluation budget of %d spent' % self.max_evaluations)
            image = x.reshape(self.shape).astype(np.float32)
            content, style, total, gradient = self.evaluate(image)
            _check_finite(total)
            self._last = (x.copy(), (content, style, total),
                          gradient.ravel().astype(np.float64))
        return float(self._last[1][2]), self._last[2]

    def _iterate(self, iteration, x):
        """An Iterate for x, with the losses of its evaluation."""
        self._lbfgs_objective(x)
        image = x.reshape(self.shape).astype(np.float32)
        return Iterate(iteration, self.evaluations, *self._last[1], image)

    def lbfgs(self, initial_image, iterations, bounds=False, max_evaluations=None):
        """Yield Iterates 0..iterations of scipy's L-BFGS-B from initial_image.

        With `bounds`, pixels stay within 0..255 once the mean is added back.
        With `max_evaluations`, no more loss+gradient evaluations are spent.
        """
        x0 = np.asarray(initial_image, dtype=np.float64).ravel()
        limits = pixel_bounds(self.shape) if bounds else None
        if limits is not None:
            x0 = np.clip(x0, *limits)
        self.max_evaluations = max_evaluations
        current = self._iterate(0, x0)
        yield current
        steps = lbfgs_iterates(self._lbfgs_objective, x0, iterations, bounds=limits)
        for iteration, x in enumerate(steps, start=1):
            current = self._iterate(iteration, x)
            yield current
        self.assign(current.image)

    def adam(self, initial_image, iterations):
        """Yield Iterates 0..iterations of art.py's Adam loop from initial_image.

        As art.py: all variables re-initialized, the start assigned, one
        train step per iteration. Each step's run also returns the losses
        and image it started from, so Iterate k is yielded during step k+1
        and the last one costs a forward pass only.
        """
        self.sess.run(self.initialize)
        self.assign(initial_image)
        fetches = (self.train_step,) + self._losses + (self.model['input_value'],)
        for step in range(1, iterations + 1):
            _, content, style, total, image = self.sess.run(fetches)
            self.evaluations += 1
            _check_finite(total)
            yield Iterate(step - 1, self.evaluations, content, style, total, image)
        content, style, total, image = self.sess.run(
            self._losses + (self.model['input_value'],))
        _check_finite(total)
        yield Iterate(iterations, self.evaluations, content, style, total, image)

    def run(self, initial_image, iterations, **options):
        """Iterates of the optimizer chosen at construction."""
        if self.optimizer == 'adam':
            return self.adam(initial_image, iterations)
        return self.lbfgs(initial_image, iterations, **options)


def blend_weights(weights, count):
    """`count` shares summing to 1: `weights` normalised, or equal ones."""
    if weights is None:
        return [1.0 / count] * count if count > 1 else [1.0]
    if len(weights) != count or min(weights) < 0 or sum(weights) <= 0:
        raise ValueError('give one non-negative blend weight per style image (%d), not all '
                         'zero; got %s' % (count, list(weights)))
    total = float(sum(weights))
    return [weight / total for weight in weights]


def capture_grams_at_size(weights, style_image, style_layers, pooling, model):
    """The Gram matrices of a style image whose size is not the model's.

    Built in a graph of the style image's own size and dropped after the
    capture. A Gram matrix sums over positions, so each is scaled by the
    ratio of `model`'s positions to the style image's at that layer: the
    style loss (eq. 4) then compares like with like.
    """
    _, height, width, _ = np.shape(style_image)
    layers = [layer for layer, _ in style_layers]
    with tf.Graph().as_default() as graph:
        capture = load_vgg_model(weights, height, width, pooling,
                                 last_layer=deepest_layer(layers, pooling))
        grams = losses.gram_matrices(capture, style_layers)
        with tf1.Session(graph=graph, config=session_config()) as sess:
            sess.run(capture['input'].initializer)
            sess.run(capture['assign_input'], {capture['image']: style_image})
            captured = losses.capture_style_targets(sess, grams)
    positions = {layer: (losses.feature_sizes(model[layer].shape)[1],
                         losses.feature_sizes(capture[layer].shape)[1]) for layer in layers}
    return {layer: captured[layer] * np.float32(ours / theirs)
            for layer, (ours, theirs) in positions.items()}


def _check_finite(total):
    """Raise NonFiniteLoss if the total loss is NaN or infinite."""
    if not np.isfinite(total):
        raise NonFiniteLoss('the total loss became %s' % total)


def stylize(weights, content_image, style_image, iterations, optimizer='lbfgs',
            initial_image=None, noise_ratio=NOISE_RATIO, seed=None, bounds=False,
            max_evaluations=None, **painting_options):
    """Paint content_image in the style of style_image, yielding each Iterate.

    Images are (1, H, W, 3) float32 in network space (see `load_image`);
    `style_image` may be a list. The start is `initial_image`, or art.py's
    noise/content mix. Iterate 0 is the start; the last is the result.
    `painting_options` go to Painting (layers, BETA/ALPHA, pooling,
    learning_rate, style_blend_weights, tv_weight, config: a ConfigProto).
    """
    if initial_image is None:
        initial_image = images.generate_noise_image(content_image, noise_ratio, seed)
    with Painting(weights, content_image, style_image, optimizer=optimizer,
                  **painting_options) as painting:
        options = {} if optimizer == 'adam' else {'bounds': bounds,
                                                   'max_evaluations': max_evaluations}
        yield from painting.run(initial_image, iterations, **options)


def stylize_scales(weights, contents, styles, iterations, initial_image, **options):
    """stylize at several sizes in turn, smallest first: each result, resized,
    starts the next size, and each size has a graph of its own.

    `contents[i]` and `styles[i]` are the images at size i. Iterations and
    evaluations count on across sizes; a size's iteration 0 (the previous
    result, resized) is not yielded again.
    """
    start, done = initial_image, None
    for content, style in zip(contents, styles):
        if np.shape(start) != np.shape(content):
            start = images.resize_image(start, *np.shape(content)[1:3])
        for iterate in stylize(weights, content, style, iterations, initial_image=start,
                               **options):
            if done is not None:
                if iterate.iteration == 0:
                    continue
                iterate = iterate._replace(iteration=iterate.iteration + done.iteration,
                                           evaluations=iterate.evaluations + done.evaluations)
            last = iterate
            yield iterate
        start, done = last.image, last
