"""The painting: art.py's graph, built once, with its session.

Steps, in art.py's order:
1. build VGG-19 with the image as its one tf.Variable (`load_vgg_model`);
2. assign the content image, capture conv4_2 with sess.run (content loss);
3. assign the style image, capture the Gram matrices (style loss);
4. total = content_weight * content + style_weight * style (art.py's BETA and
   ALPHA), its gradient, and Adam's ops when Adam will run; steps 2-4 once
   per session, each in its own arithmetic (float32, and bfloat16 if asked);
5. finalize the graph. The optimizers (art.optimizers) then evaluate it.
"""
import os

import numpy as np

from art import backward, losses
from art.constants import (ALPHA, BETA, CONTENT_LAYERS, FINISH_PRECISION, LEARNING_RATE,
                           MIXED_PRECISION, OPTIMIZERS, STYLE_LAYERS)
from art.network import deepest_layer
from art.tf1 import tf, tf1
from tensorflow.core.protobuf import rewriter_config_pb2  # pylint: disable=wrong-import-order
from art.vgg import initialize, load_vgg_model


def session_config(precision='float32'):
    """A session's configuration: every core this process may use for each op, one
    op at a time, and for 'bfloat16' oneDNN's mixed precision graph rewrite.

    VGG is a chain, and each op already splits its work over the cores: two
    ops at once only share them (TensorFlow's default pools measured slower,
    bench/RESULTS.md). The rewrite (grappler's
    auto_mixed_precision_onednn_bfloat16) runs convolutions and matrix
    products in bfloat16 and keeps float32 where precision matters.
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()
    config = tf1.ConfigProto(intra_op_parallelism_threads=cores,
                             inter_op_parallelism_threads=1)
    if precision == 'bfloat16':
        config.graph_options.rewrite_options.auto_mixed_precision_onednn_bfloat16 = (
            rewriter_config_pb2.RewriterConfig.ON)
    return config


def session_configs(precision):
    """{precision: session config} of a painting whose bulk runs in `precision`, the
    bulk's first: float32 alone, or bfloat16 with float32 for the captures and the finish."""
    if precision == FINISH_PRECISION:
        return {FINISH_PRECISION: session_config(FINISH_PRECISION)}
    return {precision: session_config(precision),
            FINISH_PRECISION: session_config(FINISH_PRECISION)}


def painting_configs(configs):
    """A painting's {precision: session config}: float32's alone by default; ValueError
    without float32's, where targets are captured and every painting ends."""
    configs = dict(configs or session_configs(FINISH_PRECISION))
    if FINISH_PRECISION not in configs:
        raise ValueError('configs must include %s, where targets are captured'
                         % FINISH_PRECISION)
    return configs


class Painting:
    """The graph, session and loss tensors for one content image and its styles.

    Everything is built in the constructor and the graph is finalized there,
    so optimizing adds no op. `optimizer` ('lbfgs' or 'adam') must be chosen
    up front because Adam's update ops are part of the graph.

    `style_image` is one image or a list; their Gram matrices are blended
    with `style_blend_weights` (normalised to sum 1; equal by default). A
    style image of the content's size is captured through the model's own
    variable, as art.py did; one of another size in a graph of its size.
    `tv_weight` adds a total variation term to the total loss. The total is
    content_weight * content + style_weight * style (eq. 7; art.py's BETA and
    ALPHA by default). `evaluations` counts the loss+gradient evaluations run.

    `configs` maps precisions to session configs (`session_configs`): one
    session per entry runs the same finalized graph, each holding its own copy
    of the variables. Each session captures its own targets, so a bfloat16
    session's losses compare its features with its own rounding of the
    targets'; `content_targets` and `style_targets` are float32's, art.py's.
    The painting starts in the first entry's precision; `phases` lists what it
    can run in, in order (a bfloat16 painting with L-BFGS also has 'mixed':
    float32's loss with the gradient of art.backward), and `switch` moves to
    another, carrying every variable (the image, Adam's moments) over.
    """

    def __init__(self, weights, content_image, style_image,
                 content_layers=CONTENT_LAYERS, style_layers=STYLE_LAYERS,
                 content_weight=BETA, style_weight=ALPHA, pooling='avg', optimizer='lbfgs',
                 learning_rate=LEARNING_RATE, style_blend_weights=None, tv_weight=0.0,
                 configs=None):
        if optimizer not in OPTIMIZERS:
            raise ValueError('optimizer must be one of %s' % ', '.join(OPTIMIZERS))
        style_images = list(style_image) if isinstance(style_image, (list, tuple)) else [style_image]
        blend = blend_weights(style_blend_weights, len(style_images))
        _, height, width, _ = np.shape(content_image)
        self.shape = tuple(np.shape(content_image))
        self.optimizer = optimizer
        self.evaluations = 0
        configs = painting_configs(configs)
        self.phases = painting_phases(configs, mixed=optimizer == 'lbfgs')
        self.graph = tf.Graph()
        with self.graph.as_default():
            used = [layer for layer, _ in tuple(content_layers) + tuple(style_layers)]
            self.last_layer = deepest_layer(used, pooling)
            self.model = load_vgg_model(weights, height, width, pooling,
                                        last_layer=self.last_layer, weights='variables')
            self.sessions = {name: tf1.Session(graph=self.graph, config=config)
                             for name, config in configs.items()}
            for session in self.sessions.values():
                initialize(session, self.model)
            grams = losses.gram_matrices(self.model, style_layers)
            adam = tf1.train.AdamOptimizer(learning_rate) if optimizer == 'adam' else None
            self._fetches, self._train_steps = {}, {}
            for precision in configs:
                self.precision = precision
                self.assign(content_image)
                content_targets = losses.capture_content_targets(
                    self.sess, self.model, content_layers)
                style_targets = self._style_targets(weights, style_images, blend, grams,
                                                    style_layers, pooling, configs[precision])
                content_loss = losses.content_loss(self.model, content_targets, content_layers)
                style_loss = losses.style_loss(self.model, grams, style_targets, style_layers)
                total_loss = losses.total_loss_func(content_loss, style_loss,
                                                    content_weight, style_weight)
                if tv_weight:
                    total_loss += tv_weight * losses.total_variation_loss(
                        self.model['input_value'])
                gradient = tf1.gradients(total_loss, self.model['input'])[0]
                self._fetches[precision] = (content_loss, style_loss, total_loss, gradient)
                if precision == FINISH_PRECISION:
                    self.content_targets, self.style_targets = content_targets, style_targets
                    if MIXED_PRECISION in self.phases:
                        self._fetches[MIXED_PRECISION] = (content_loss, style_loss, total_loss,
                                                          backward.image_gradient(self.model,
                                                                                  total_loss))
                if adam is not None:
                    self._train_steps[precision] = adam.minimize(
                        total_loss, var_list=[self.model['input']])
            self.initialize = tf1.global_variables_initializer()
            self._variables = tf1.global_variables()
            self._values = [tf1.placeholder(v.dtype.base_dtype, v.shape) for v in self._variables]
            self._load = tf.group(*[v.assign(value)
                                    for v, value in zip(self._variables, self._values)])
        self.graph.finalize()
        self.precision = self.phases[0]

    @property
    def sess(self):
        """The session of the precision the painting now runs in."""
        return self.sessions[session_of(self.precision)]

    @property
    def _losses(self):
        """(content, style, total) of the precision the painting now runs in."""
        return self._fetches[self.precision][:3]

    def switch(self, precision):
        """Run in `precision` from now on, with every variable's value carried over."""
        values = self.sess.run(self._variables)
        moved = session_of(precision) != session_of(self.precision)
        self.precision = precision
        if moved:
            self.sess.run(self._load, dict(zip(self._values, values)))

    def _style_targets(self, weights, style_images, blend, grams, style_layers, pooling, config):
        """A for each style layer: the blend of every style image's Gram matrix."""
        targets = {layer: 0 for layer, _ in style_layers}
        for image, share in zip(style_images, blend):
            if np.shape(image) == self.shape:
                self.assign(image)
                captured = losses.capture_style_targets(self.sess, grams)
            else:
                captured = capture_grams_at_size(weights, image, style_layers, pooling,
                                                 self.model, config)
            for layer in targets:
                targets[layer] = targets[layer] + share * captured[layer]
        return targets

    def close(self):
        """Release the sessions."""
        for session in self.sessions.values():
            session.close()

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
            self._fetches[self.precision], {self.model['image']: image})
        self.evaluations += 1
        return content, style, total, gradient

    def losses_at(self, image=None, precision=None):
        """(content, style, total) at `image`, or at the variable's image, in `precision`
        (the painting's own by default): forward only."""
        precision = precision or self.precision
        feed = None if image is None else {self.model['image']: image}
        return self.sessions[session_of(precision)].run(self._fetches[precision][:3], feed)

    def losses_and_image(self):
        """(content, style, total, image) of the image now in the variable: forward only."""
        return self.sess.run(self._losses + (self.model['input_value'],))

    def reset_adam(self, image):
        """As art.py before its loop: every variable (Adam's slots too) re-initialized,
        then `image` assigned."""
        self.sess.run(self.initialize)
        self.assign(image)

    def adam_step(self):
        """One Adam step: (content, style, total, image) of the image it started from."""
        _, content, style, total, image = self.sess.run(
            (self._train_steps[self.precision],) + self._losses + (self.model['input_value'],))
        self.evaluations += 1
        return content, style, total, image


def session_of(precision):
    """The session a precision runs in: 'mixed' is float32's, with another gradient."""
    return FINISH_PRECISION if precision == MIXED_PRECISION else precision


def painting_phases(configs, mixed):
    """The precisions a painting runs in, in order: its sessions', float32's last, with
    'mixed' before it where there is a bulk in another precision and `mixed` is true."""
    phases = list(configs)
    phases.remove(FINISH_PRECISION)
    if phases and mixed:
        phases.append(MIXED_PRECISION)
    return tuple(phases) + (FINISH_PRECISION,)


def blend_weights(weights, count):
    """`count` shares summing to 1: `weights` normalised, or equal ones."""
    if weights is None:
        return [1.0 / count] * count if count > 1 else [1.0]
    if len(weights) != count or min(weights) < 0 or sum(weights) <= 0:
        raise ValueError('give one non-negative blend weight per style image (%d), not all '
                         'zero; got %s' % (count, list(weights)))
    total = float(sum(weights))
    return [weight / total for weight in weights]


def capture_grams_at_size(weights, style_image, style_layers, pooling, model, config=None):
    """The Gram matrices of a style image whose size is not the model's.

    Built in a graph of the style image's own size and dropped after the
    capture. A Gram matrix sums over positions, so each is scaled by the
    ratio of `model`'s positions to the style image's at that layer: the
    style loss (eq. 4) then compares like with like. `config` is the session's
    (float32's by default).
    """
    _, height, width, _ = np.shape(style_image)
    layers = [layer for layer, _ in style_layers]
    with tf.Graph().as_default() as graph:
        capture = load_vgg_model(weights, height, width, pooling, weights='variables',
                                 last_layer=deepest_layer(layers, pooling))
        grams = losses.gram_matrices(capture, style_layers)
        with tf1.Session(graph=graph, config=config or session_config()) as sess:
            initialize(sess, capture)
            sess.run(capture['assign_input'], {capture['image']: style_image})
            captured = losses.capture_style_targets(sess, grams)
    positions = {layer: (losses.feature_sizes(model[layer].shape)[1],
                         losses.feature_sizes(capture[layer].shape)[1]) for layer in layers}
    return {layer: captured[layer] * np.float32(ours / theirs)
            for layer, (ours, theirs) in positions.items()}
