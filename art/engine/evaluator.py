"""What an evaluator offers the optimizers (`Evaluator`), and what both evaluators share
(`ObjectiveEvaluator`): the objective's options, its targets captured image by image,
the style images' blend and the rescaling of statistics taken at another size.

Painting (art.engine.painting) evaluates the whole image in one graph; TiledPainting
(art.engine.tiling) crop by crop. The optimizers see only this Protocol.
"""
import collections
from typing import Protocol, Tuple, runtime_checkable

import numpy as np

from art.constants import FINISH_PRECISION, LEARNING_RATE, MIXED_PRECISION, OPTIMIZERS
from art.engine.guides import position_weights
from art.network.layers import deepest_layer, receptive_field
from art.engine.terms import CONTENT, STATISTIC, STYLE, standard_objective, style_index

# A guided term's position weights (art.engine.guides), (1, h, w, 1) at its layer: in
# the painting's loss, and where its target is captured from its source image.
Guide = collections.namedtuple('Guide', 'painting source')


@runtime_checkable
class Evaluator(Protocol):
    """The loss and gradient of a painting at an image, in the arithmetic of its phase.

    `phases` lists the precisions it runs in, in order, float32 last; `switch`
    moves to another, carrying the image and Adam's moments over.
    """
    shape: Tuple[int, ...]
    optimizer: str
    precision: str
    phases: Tuple[str, ...]
    evaluations: int

    def evaluate(self, image):
        """Losses (content, style, total, gradient) at `image`; counts one evaluation."""

    def losses_at(self, image, precision=None):
        """Losses (content, style, total) at `image` in `precision` (the present one by
        default)."""

    def assign(self, image):
        """Make `image` the painting's (the result an optimizer leaves)."""

    def switch(self, precision):
        """Run in `precision` from now on."""

    def reset_adam(self, image):
        """Adam's moments and step count zeroed, `image` assigned (art.py before its loop)."""

    def adam_step(self):
        """One Adam step: Losses (content, style, total, image) of the image it started
        from."""

    def losses_and_image(self):
        """Losses (content, style, total, image) of the painting's image."""

    def close(self):
        """Release the sessions."""


def capture_weights(guides, layer_shape):
    """Each guided term's position weights for a capture of an image whose features at the
    term's layer are `layer_shape(index)`: its source image's where they fit (the image
    may be its source), else ones (the capture is not the term's, and is not kept)."""
    weights = {}
    for index, guide in guides.items():
        shape = layer_shape(index)
        weights[index] = (guide.source if guide.source.shape == shape
                          else np.ones(shape, np.float32))
    return weights


def target_key(term):
    """What a term's captured target depends on besides the images: its kind, layer and
    source (a clip's frames share their style terms' targets by it)."""
    return type(term).__name__, term.layer, term.source


def blend_weights(weights, count):
    """`count` shares summing to 1: `weights` normalised, or equal ones."""
    if weights is None:
        return [1.0 / count] * count if count > 1 else [1.0]
    if len(weights) != count or min(weights) < 0 or sum(weights) <= 0:
        raise ValueError('give one non-negative blend weight per style image (%d), not all '
                         'zero; got %s' % (count, list(weights)))
    total = float(sum(weights))
    return [weight / total for weight in weights]


def painting_configs(configs, default):
    """A painting's {precision: session config}: `default` (float32's alone) when None;
    ValueError without float32's, where targets are captured and every painting ends."""
    configs = dict(configs or default)
    if FINISH_PRECISION not in configs:
        raise ValueError('configs must include %s, where targets are captured'
                         % FINISH_PRECISION)
    return configs


def painting_phases(configs, mixed):
    """The precisions a painting runs in, in order: its sessions', float32's last, with
    'mixed' before it where there is a bulk in another precision and `mixed` is true."""
    phases = list(configs)
    phases.remove(FINISH_PRECISION)
    if phases and mixed:
        phases.append(MIXED_PRECISION)
    return tuple(phases) + (FINISH_PRECISION,)


def group_losses(groups):
    """(content, style) of an objective's groups, 0 where a group has no term."""
    return groups.get(CONTENT, 0.0), groups.get(STYLE, 0.0)


class Losses(tuple):
    """What an evaluator returns, (content, style, total) and the gradient or image that
    goes with them, and `groups`: {group: loss} of every group of the objective, in its
    order (content and style first, then total variation, a clip's temporal loss, a
    plug-in term's group), each unweighted by the group's weight."""

    def __new__(cls, values, groups):
        losses = super().__new__(cls, values)
        losses.groups = {group: float(loss) for group, loss in groups.items()}
        return losses


class ObjectiveEvaluator:
    """What Painting and TiledPainting share: the constructor's options, and the targets.

    The objective is `objective`, or art.py's from `objective_options`
    (art.engine.terms.standard_objective: layers, weights, tv_weight,
    style_blend_weights, terms). A subclass sets `positions` ({layer: M of the
    painting}) and defines `_capture(image, indices)` (the terms' captures at
    an image of its own size, in the present precision) and
    `_capture_elsewhere(image, indices, config)` (at another size: the
    captures and that size's positions).

    `kept_targets` ({precision: {target_key: target}}, an earlier evaluator's
    `style_targets_kept()`) gives the style images' targets already captured: a clip's
    frames capture their styles once.
    """

    def __init__(self, content_image, style_image, *, objective=None, pooling='avg',
                 optimizer='lbfgs', learning_rate=LEARNING_RATE, kept_targets=None,
                 **objective_options):
        if optimizer not in OPTIMIZERS:
            raise ValueError('optimizer must be one of %s' % ', '.join(OPTIMIZERS))
        if objective is not None and objective_options:
            raise ValueError('give an objective or its options (%s), not both'
                             % ', '.join(sorted(objective_options)))
        self.objective = objective or standard_objective(**objective_options)
        self.style_images = (list(style_image) if isinstance(style_image, (list, tuple))
                             else [style_image])
        self.blend = blend_weights(self.objective.blend, len(self.style_images))
        self.shape = tuple(np.shape(content_image))
        self.content_image = content_image
        self.pooling, self.optimizer, self.learning_rate = pooling, optimizer, learning_rate
        self.last_layer = deepest_layer(self.objective.layers(), pooling)
        self.evaluations = 0
        self.positions = {}
        self.targets = {}
        # {precision: {index: factor}}: Objective.normalizers of that precision's targets.
        self.normalizers = {}
        self.kept_targets = kept_targets or {}
        self.guides = {index: self._guide(term) for index, term in
                       enumerate(self.objective.terms) if term.guide is not None}

    def _source_images(self, source):
        """The (image, share) pairs a source's targets are captured from and blended."""
        if source == CONTENT:
            return [(self.content_image, 1.0)]
        if source == STYLE:
            return list(zip(self.style_images, self.blend))
        index = style_index(source)
        if index is None or index >= len(self.style_images):
            raise ValueError('a term takes its target from %r; there are %d style images'
                             % (source, len(self.style_images)))
        return [(self.style_images[index], 1.0)]

    def _guide(self, term):
        """A guided term's Guide: its masks' position weights at its layer."""
        sources = self._source_images(term.source) if term.source else []
        if term.kind != STATISTIC or len(sources) != 1:
            raise ValueError('%s: a mask guides a statistic with its target from one image'
                             % term.describe())
        source_size = np.shape(sources[0][0])[1:3]
        source_mask = np.ones(source_size) if term.source_guide is None else term.source_guide
        for mask, size, what in ((term.guide, self.shape[1:3], 'the painting'),
                                 (source_mask, source_size, 'its source image')):
            if np.shape(mask) != tuple(size):
                raise ValueError('%s: a mask of %s pixels for %s of %s' % (
                    term.describe(), np.shape(mask), what, tuple(size)))
        stride = receptive_field(term.layer, self.pooling)[0]
        return Guide(position_weights(term.guide, stride), position_weights(source_mask, stride))

    def capture_targets(self, precision, config):
        """Each term's target (None for a term without a source) in `precision`, which the
        painting runs in now: the content image's captures, and the blend of the style
        images' (or one style image's), statistics of another size rescaled to the
        painting's positions."""
        terms = self.objective.terms
        targets = [None] * len(terms)
        kept = self.kept_targets.get(precision, {})
        for source in dict.fromkeys(term.source for term in terms if term.source):
            indices = [index for index, term in enumerate(terms) if term.source == source]
            if source != CONTENT and all(target_key(terms[i]) in kept for i in indices):
                for index in indices:
                    targets[index] = kept[target_key(terms[index])]
                continue
            for image, share in self._source_images(source):
                captured, theirs = self._captured(image, indices, config)
                for index in indices:
                    scaled = captured[index]
                    if theirs is not None:
                        scaled = scaled * np.float32(self.positions[terms[index].layer]
                                                     / theirs[terms[index].layer])
                    targets[index] = share * scaled if targets[index] is None \
                        else targets[index] + share * scaled
        self.targets[precision] = targets
        self.normalizers[precision] = self.objective.normalizers(targets, self.positions,
                                                                 self.content_image)
        return targets

    def _captured(self, image, indices, config):
        """(captures, None) at the painting's size; (captures, their positions) at another,
        where only statistics, sums over positions, compare once rescaled."""
        if np.shape(image) == self.shape:
            return self._capture(image, indices), None
        stuck = [self.objective.terms[index] for index in indices
                 if self.objective.terms[index].kind != STATISTIC]
        if stuck:
            raise ValueError('%s compares position by position: its image must be the '
                             "painting's size" % stuck[0].describe())
        return self._capture_elsewhere(image, indices, config)

    def style_targets_kept(self):
        """{precision: {target_key: target}} of every term whose target is the style
        images', for `kept_targets` of an evaluator of the same styles and size."""
        return {precision: {target_key(term): target for term, target in
                            zip(self.objective.terms, targets)
                            if term.source and term.source != CONTENT}
                for precision, targets in self.targets.items()}

    def targets_of(self, group, precision=FINISH_PRECISION):
        """{layer: target} of a group's terms, captured in `precision` (float32's, art.py's,
        by default)."""
        return {term.layer: target for term, target in zip(self.objective.terms,
                                                            self.targets[precision])
                if term.group == group}

    @property
    def content_targets(self):
        """P of each content layer (float32's)."""
        return self.targets_of(CONTENT)

    @property
    def style_targets(self):
        """A of each style layer (float32's): the style images' blend."""
        return self.targets_of(STYLE)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        """Release the sessions (a subclass's)."""
        raise NotImplementedError
