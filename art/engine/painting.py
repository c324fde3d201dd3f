"""The painting: art.py's graph, built once, with its session.

Steps, in art.py's order:
1. build VGG-19 with the image as its one tf.Variable (`load_vgg_model`);
2. assign the content image, capture conv4_2 with sess.run (content loss);
3. assign the style image, capture the Gram matrices (style loss);
4. each term's loss against its target (art.engine.terms), the total formed by the
   objective (eq. 7: art.py's BETA and ALPHA), its gradient, and Adam's ops
   when Adam will run; steps 2-4 once per session, each in its own
   arithmetic (float32, and bfloat16 if asked);
5. finalize the graph. The optimizers (art.engine.optimizers) then evaluate it.
"""
import os

import numpy as np

from art.engine import backward, losses
from art.engine.cpu import engine_weight_form
from art.constants import FINISH_PRECISION, MIXED_PRECISION
from art.engine.evaluator import (Losses, ObjectiveEvaluator, capture_weights, group_losses,
                                  painting_configs, painting_phases)
from art.network.layers import deepest_layer
from art.engine.stops import StoppableSession
from art.engine.terms import IMAGE, STATISTIC, statistic_of
from art.engine.tf1 import tf, tf1
from tensorflow.core.protobuf import rewriter_config_pb2  # pylint: disable=wrong-import-order
from art.engine.vgg import initialize, load_vgg_model


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


class Painting(ObjectiveEvaluator):
    """The graph, session and loss tensors of one content image, its styles and an
    objective (art.engine.terms): art.py's by default.

    Everything is built in the constructor and the graph is finalized there,
    so optimizing adds no op. `optimizer` ('lbfgs' or 'adam') must be chosen
    up front because Adam's update ops are part of the graph.

    `style_image` is one image or a list (blended as the objective says). A
    style image of the content's size is captured through the model's own
    variable, as art.py did; one of another size in a graph of its size. The
    objective's options, `pooling`, `optimizer` and `learning_rate` are
    art.engine.evaluator.ObjectiveEvaluator's. `evaluations` counts the
    loss+gradient evaluations run.

    `configs` maps precisions to session configs (`session_configs`): one
    session per entry runs the same finalized graph, each holding its own copy
    of the variables. Each session captures its own targets, so a bfloat16
    session's losses compare its features with its own rounding of the
    targets'; `content_targets` and `style_targets` are float32's, art.py's.
    The painting starts in the first entry's precision; `phases` lists what it
    can run in, in order (a bfloat16 painting with L-BFGS also has 'mixed':
    float32's loss with the gradient of art.engine.backward), and `switch` moves to
    another, carrying every variable (the image, Adam's moments) over.
    """

    def __init__(self, weights, content_image, style_image, *, configs=None, **options):
        super().__init__(content_image, style_image, **options)
        _, height, width, _ = self.shape
        configs = painting_configs(configs, session_configs(FINISH_PRECISION))
        self.phases = painting_phases(configs, mixed=self.optimizer == 'lbfgs')
        self.weights, self.configs = weights, configs
        self.graph = tf.Graph()
        with self.graph.as_default():
            self.model = load_vgg_model(weights, height, width, self.pooling,
                                        last_layer=self.last_layer, weights=engine_weight_form())
            self.positions = {layer: losses.feature_sizes(self.model[layer].shape)[1]
                              for layer in self.objective.layers()}
            self.sessions = {name: StoppableSession(tf1.Session(graph=self.graph, config=config))
                             for name, config in configs.items()}
            for session in self.sessions.values():
                initialize(session, self.model)
            self._captures, self._values = self._capture_and_loss_ops()
            # By precision: (content, style, total, gradient), and {group: loss}.
            self._fetches, self._groups, self._train_steps = {}, {}, {}
            # One Adam for every session's step, so that they share its moments.
            adam = tf1.train.AdamOptimizer(self.learning_rate) if self.optimizer == 'adam' \
                else None
            for precision, config in configs.items():
                self.precision = precision
                self._build_losses(precision, self.capture_targets(precision, config), adam)
            self.initialize = tf1.global_variables_initializer()
            self._variables = tf1.global_variables()
            self._fed = [tf1.placeholder(v.dtype.base_dtype, v.shape) for v in self._variables]
            self._load = tf.group(*[v.assign(value)
                                    for v, value in zip(self._variables, self._fed)])
        self.graph.finalize()
        self.precision = self.phases[0]

    def _capture_and_loss_ops(self):
        """Each term's capture op and the value its loss reads, built once: one op for both
        but for a guided term, whose capture weighs its source image's positions (where
        that has the painting's size) and whose loss the painting's."""
        captures = capture_ops(self.objective, self.model, capture_weights(
            self.guides, lambda index: self.guides[index].painting.shape))
        values = list(captures)
        for index, guide in self.guides.items():
            term = self.objective.terms[index]
            values[index] = statistic_of(term, self.model[term.layer], guide.painting)
        return captures, values

    def _build_losses(self, precision, targets, adam):
        """`precision`'s fetches (content, style, total, gradient) against its `targets`,
        'mixed' beside float32's, and `adam`'s step unless it is None."""
        term_losses = []
        normalizers = self.normalizers[precision]

        def each_loss():
            # Each loss built just before it is weighted and summed, as art.py's sums are.
            for index, (term, value, target) in enumerate(zip(self.objective.terms,
                                                              self._values, targets)):
                loss = term.loss(value, target, self.positions.get(term.layer))
                term_losses.append(loss if index not in normalizers
                                   else loss * tf.constant(normalizers[index], loss.dtype))
                yield term_losses[-1]

        groups = self.objective.groups(each_loss())
        content, style = (tf.convert_to_tensor(loss, tf.float32)
                          for loss in group_losses(groups))
        total = self.objective.total(groups)
        # What the gradient is taken of: the total, or a surrogate with the normalised one.
        descended = (backward.normalized_surrogate(self.objective, self.model, term_losses)
                     if self.objective.normalize_gradients else total)
        gradient = tf1.gradients(descended, self.model['input'])[0]
        self._fetches[precision] = (content, style, total, gradient)
        self._groups[precision] = {group: tf.convert_to_tensor(loss, tf.float32)
                                   for group, loss in groups.items()}
        if precision == FINISH_PRECISION and MIXED_PRECISION in self.phases:
            self._fetches[MIXED_PRECISION] = (content, style, total,
                                              backward.image_gradient(self.model, descended))
            self._groups[MIXED_PRECISION] = self._groups[precision]
        if adam is not None:
            self._train_steps[precision] = adam.minimize(descended,
                                                         var_list=[self.model['input']])

    def _capture(self, image, indices):
        """sess.run of the terms' capture ops with `image` in the model's variable."""
        self.assign(image)
        return dict(zip(indices, self.sess.run([self._captures[index] for index in indices])))

    def _capture_elsewhere(self, image, indices, config):
        return capture_at_size(self.weights, image, [self.objective.terms[i] for i in indices],
                               indices, self.pooling, config,
                               [self.guides[i].source if i in self.guides else None
                                for i in indices])

    @property
    def sess(self):
        """The session of the precision the painting now runs in."""
        return self.sessions[session_of(self.precision)]

    def _run_losses(self, session, precision, before=(), after=(), feed=None):
        """Losses of sess.run of `before`, `precision`'s (content, style, total) and
        `after`, with its groups, in one run; `before`'s values left out."""
        values, groups = session.run((tuple(before) + self._fetches[precision][:3]
                                      + tuple(after), self._groups[precision]), feed)
        return Losses(values[len(before):], groups)

    def switch(self, precision):
        """Run in `precision` from now on, with every variable's value carried over."""
        values = self.sess.run(self._variables)
        moved = session_of(precision) != session_of(self.precision)
        self.precision = precision
        if moved:
            self.sess.run(self._load, dict(zip(self._fed, values)))

    def close(self):
        """Release the sessions."""
        for session in self.sessions.values():
            session.close()

    def assign(self, image):
        """Store `image` in the model's variable with the one assign op."""
        self.sess.run(self.model['assign_input'], {self.model['image']: image})

    def evaluate(self, image):
        """Losses and gradient at `image`, in one sess.run that also assigns it.

        Returns Losses (content, style, total, gradient) as numpy values.
        """
        losses = self._run_losses(self.sess, self.precision, after=self._fetches[
            self.precision][3:], feed={self.model['image']: image})
        self.evaluations += 1
        return losses

    def losses_at(self, image=None, precision=None):
        """Losses (content, style, total) at `image`, or at the variable's image, in
        `precision` (the painting's own by default): forward only."""
        precision = precision or self.precision
        feed = None if image is None else {self.model['image']: image}
        return self._run_losses(self.sessions[session_of(precision)], precision, feed=feed)

    def losses_and_image(self):
        """Losses (content, style, total, image) of the image now in the variable: forward
        only."""
        return self._run_losses(self.sess, self.precision, after=(self.model['input_value'],))

    def reset_adam(self, image):
        """As art.py before its loop: every variable (Adam's slots too) re-initialized,
        then `image` assigned."""
        self.sess.run(self.initialize)
        self.assign(image)

    def adam_step(self):
        """One Adam step: Losses (content, style, total, image) of the image it started
        from."""
        losses = self._run_losses(self.sess, self.precision,
                                  before=(self._train_steps[self.precision],),
                                  after=(self.model['input_value'],))
        self.evaluations += 1
        return losses


def session_of(precision):
    """The session a precision runs in: 'mixed' is float32's, with another gradient."""
    return FINISH_PRECISION if precision == MIXED_PRECISION else precision


def capture_ops(objective, model, weights=None):
    """Each term's capture op on `model`: its layer (POSITION), its statistic (STATISTIC;
    weighted by `weights`, {index: position weights}, where given), the image (IMAGE)."""
    ops = []
    weights = weights or {}
    for index, term in enumerate(objective.terms):
        if term.kind == IMAGE:
            ops.append(model['input_value'])
        elif term.kind == STATISTIC:
            ops.append(statistic_of(term, model[term.layer], weights.get(index)))
        else:
            ops.append(model[term.layer])
    return ops


def capture_at_size(weights, image, terms, indices, pooling, config=None, guides=None):
    """({index: capture}, {layer: M}) of `terms` on an image whose size is not the
    painting's, in a graph of the image's own size dropped after the capture.
    `config` is the session's (float32's by default); `guides` each term's position
    weights at this size, or None."""
    _, height, width, _ = np.shape(image)
    layers = [term.layer for term in terms]
    with tf.Graph().as_default() as graph:
        model = load_vgg_model(weights, height, width, pooling, weights=engine_weight_form(),
                               last_layer=deepest_layer(layers, pooling))
        ops = [statistic_of(term, model[term.layer], guide)
               for term, guide in zip(terms, guides or [None] * len(terms))]
        with StoppableSession(tf1.Session(graph=graph, config=config or session_config())) as sess:
            initialize(sess, model)
            sess.run(model['assign_input'], {model['image']: image})
            captured = sess.run(ops)
    positions = {layer: losses.feature_sizes(model[layer].shape)[1] for layer in layers}
    return dict(zip(indices, captured)), positions
