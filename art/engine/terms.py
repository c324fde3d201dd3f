"""The objective as data: loss terms, each one small object, that every evaluator consumes.

A term reads one layer's features F (or the image itself), compares them
with a target captured from an image (art.py's sess.run, which turns a tensor
into a numpy constant), and adds a loss. Terms come in three shapes, by how
they split over the positions p of a layer, which is what tiling needs:

- POSITION: L = sum_p l(F_p, P_p), P the target image's features (content, eq. 1).
  A crop's interior adds its share.
- STATISTIC: L = f(S), S = sum_p phi(F_p) (Gram, eq. 3-5). Crops sum S; then
  dL/dS is fed back as a constant and each crop back-propagates phi.
- IMAGE: L = g(x) on the whole image (total variation): outside the crops.

Each term has a `group` ('content', 'style', or its own name) and a
`weight` inside it; an Objective weighs each group (eq. 7's alpha and beta,
art.py's BETA and ALPHA) and forms the total, the one place it is formed.
A term defined outside this package plugs in the same way.
"""
import dataclasses
import functools
import importlib
import operator
from typing import Mapping, Optional, Tuple

import numpy as np

from art.engine import losses
from art.constants import ALPHA, ART_PY, BETA, CONTENT_LAYERS, OBJECTIVES, STYLE_LAYERS, STYLE_LOSSES
from art.engine.tf1 import tf, tf1

POSITION, STATISTIC, IMAGE = 'position', 'statistic', 'image'
# The mean-covariance statistic's relative_weight: measured on the real VGG-19 so that the
# default weights paint alike with either statistic (bench/quality.py).
MEAN_COVARIANCE_WEIGHT = 1 / 3
# The images a target is captured from: the content image, or the style images
# (each captured, rescaled to the painting's positions and blended), or one style
# image alone (`style_source(index)`: a region's style).
CONTENT, STYLE = 'content', 'style'


def style_source(index):
    """The source of a term whose target is the style image `index`'s alone (0-based)."""
    return '%s %d' % (STYLE, index + 1)


def style_index(source):
    """The style image a `style_source` names (0-based), None for any other source."""
    prefix = STYLE + ' '
    return int(source[len(prefix):]) - 1 if source and source.startswith(prefix) else None


class Term:
    """A loss term. Subclasses set `kind`, `group`, `source`, `layer` and `weight` and
    define `loss`; STATISTIC terms also `statistic`.

    `loss(value, target, positions)`: the term's loss, unweighted, as a scalar
    tensor. `value` is the layer's features (POSITION), the statistic S summed
    over the whole image (STATISTIC) or the image (IMAGE); `target` is the
    captured target (None for a term without a `source`); `positions` the
    whole image's M at the term's layer, so that a crop's share carries the
    whole image's normalisation.
    """
    kind = POSITION
    group = CONTENT
    source: Optional[str] = None
    layer: Optional[str] = None
    weight = 1.0
    # A STATISTIC term's masks (art.engine.guides), (height, width) in [0, 1]: `guide` at
    # the painting's pixels, `source_guide` at its source image's (None: all of it).
    guide = None
    source_guide = None

    def statistic(self, features, weights=None):
        """S over the positions of `features` (STATISTIC terms), each position's part
        times `weights` ((1, h, w, 1), a guided term's) where given."""
        raise NotImplementedError

    def upstream(self, features, d_statistic, weights=None):
        """dL/dF at `features` given dL/dS: by default phi's autodiff. A term may give
        the closed form instead, without the backward buffers of phi's products."""
        return tf1.gradients(statistic_of(self, features, weights), features,
                             grad_ys=d_statistic)[0]

    # The target's name in the paper (p, A), for --explain.
    symbol = 'T'
    # What a relative objective multiplies the term's loss by beside 1 / its reference loss: a
    # statistic whose relative distance runs larger than the Gram matrix's takes less, so
    # that one --style-weight paints alike (bench/RESULTS.md, "Paintings that keep the photo").
    relative_weight = 1.0

    def describe(self):
        """The term in words, for errors and --explain."""
        source = style_index(self.source)
        return '%s term %s (%s%s%s)' % (
            self.group, self.layer or 'on the image', self.kind,
            '' if source is None else ', style %d' % (source + 1),
            '' if self.guide is None else ', masked')

    def constants(self, filters, positions):
        """The term's constants at a layer of N `filters` and M `positions`, in words."""
        return ''

    def reference_loss(self, target, positions):
        """What a relative objective divides the term's loss by, or None to leave it as it is:
        for a term with a target, its loss where the features are all zero, against `target`
        (the whole image's, numpy) at a layer of M `positions`; an IMAGE term's `target` is
        the content image (network space)."""
        return None


def statistic_of(term, features, weights=None):
    """A STATISTIC term's S of `features`, weighted by `weights` where given (a term that
    takes no mask may define `statistic(features)` alone)."""
    return term.statistic(features) if weights is None else term.statistic(features, weights)


@dataclasses.dataclass(frozen=True)
class ContentTerm(Term):
    """Eq. 1 at `layer`, art.py's normalisation 1/(4NM): the generated features against
    the content image's, position by position."""
    layer: str
    weight: float = 1.0
    kind = POSITION
    group = CONTENT
    source = CONTENT

    symbol = 'p'

    def loss(self, value, target, positions):
        return losses.content_layer_loss(target, value, positions)

    def constants(self, filters, positions):
        return 'x 1/(4NM) = 1/(4*%d*%d)' % (filters, positions)

    def reference_loss(self, target, positions):
        # sum(p^2) / (4NM): the loss relative to it is |F - P|^2 / |P|^2.
        return (losses.content_normalisation(int(np.shape(target)[-1]), positions)
                * float(np.sum(np.square(target, dtype=np.float64))))


@dataclasses.dataclass(frozen=True, eq=False)
class GramTerm(Term):
    """Eq. 4 at `layer`: the Gram matrix G = F^T F (eq. 3) against the style images' A;
    with a `guide`, the guided Gram matrix of art.engine.guides (the region's style)."""
    layer: str
    weight: float = 1.0
    source: str = STYLE
    guide: Optional[object] = None
    source_guide: Optional[object] = None
    kind = STATISTIC
    group = STYLE
    symbol = 'A'

    def statistic(self, features, weights=None):
        return losses.gram_matrix(features, weights)

    def loss(self, value, target, positions):
        return losses.style_layer_loss(target, value, int(value.shape[0]), positions)

    def upstream(self, features, d_statistic, weights=None):
        # dE/dF = w F (D + D^T) with D = dE/dG: eq. 4's gradient 4k F (G - A), from the
        # interior directly.
        filters = int(features.shape[3])
        flat = tf.reshape(features, (-1, filters))
        if weights is not None:
            flat = flat * tf.reshape(weights, (-1, 1))
        return tf.reshape(tf.matmul(flat, d_statistic + tf.transpose(d_statistic)),
                          tf.shape(features))

    def constants(self, filters, positions):
        return 'x 1/(4N^2M^2) = 1/(4*%d^2*%d^2)' % (filters, positions)

    def reference_loss(self, target, positions):
        # sum(A^2) / (4N^2M^2): the loss relative to it is |G - A|^2 / |A|^2.
        return (losses.style_normalisation(int(np.shape(target)[0]), positions)
                * float(np.sum(np.square(target, dtype=np.float64))))


@dataclasses.dataclass(frozen=True, eq=False)
class MeanCovarianceTerm(GramTerm):
    """The features' mean and covariance against the style's, by the 2-Wasserstein
    distance of their Gaussian fits (losses.gaussian_wasserstein).

    S is the Gram matrix of the features with a column of ones appended,
    sum_p w_p [F_p, 1][F_p, 1]^T: a sum over positions that holds the weight total,
    the sum of the features and their products, so it tiles as the Gram matrix does
    and a mask's normalisation cancels in the mean and covariance.
    S is taken in float64, untiled as on tiles: the covariance G/m - mu mu^T cancels
    most of G where the features' mean is large beside their spread.
    """
    symbol = '(mu, Sigma)'
    relative_weight = MEAN_COVARIANCE_WEIGHT

    def statistic(self, features, weights=None):
        augmented = tf.cast(tf.concat([features, tf.ones_like(features[..., :1])], axis=3),
                            tf.float64)
        return losses.gram_matrix(augmented, None if weights is None
                                  else tf.cast(weights, tf.float64))

    def loss(self, value, target, positions):
        return tf.cast(losses.gaussian_wasserstein(value, target), tf.float32)

    def upstream(self, features, d_statistic, weights=None):
        return Term.upstream(self, features, d_statistic, weights)

    def constants(self, filters, positions):
        # `filters` is S's side: N + 1, with the column of ones.
        return 'x 1/N = 1/%d' % (filters - 1)

    def reference_loss(self, target, positions):
        # The style's mean second moment, (|mu|^2 + tr(Sigma)) / N: its distance from a
        # blank feature map (the covariance floor left out).
        filters = int(np.shape(target)[0]) - 1
        count = float(target[filters, filters])
        return float(np.trace(np.asarray(target, np.float64)[:filters, :filters])) / count / filters


@dataclasses.dataclass(frozen=True)
class TotalVariationTerm(Term):
    """Total variation of the image (not in the paper or art.py; the later
    implementations add it to smooth high-frequency noise)."""
    weight: float = 1.0
    kind = IMAGE
    group = 'tv'

    def loss(self, value, target, positions):
        return losses.total_variation_loss(value)

    def reference_loss(self, target, positions):
        # The photo's own total variation, at least one level^2 per value (a flat photo's is
        # 0): relative to it, a weight means the same at every size and contrast.
        image = np.asarray(target, np.float64)
        variation = (np.sum(np.square(np.diff(image, axis=1)))
                     + np.sum(np.square(np.diff(image, axis=2))))
        return max(float(variation), float(image.size))


@dataclasses.dataclass(frozen=True, eq=False)
class TemporalTerm(Term):
    """Ruder et al.'s short-term temporal loss (arXiv 1604.08610, eq. 2) on the image:
    (1/D) sum_x c(x) (x - w(x))^2, with w the previous painted frame warped to this one
    (network space, (1, H, W, 3)), c the consistency weights (art.engine.flow; (H, W))
    and D the number of values. Its constants are the term's own, not captured."""
    warped: object
    consistency: object
    weight: float = 1.0
    kind = IMAGE
    group = 'temporal'

    def loss(self, value, target, positions):
        weights = tf.constant(np.asarray(self.consistency, np.float32)[None, :, :, None])
        difference = value - tf.constant(np.asarray(self.warped, np.float32))
        return tf.reduce_sum(weights * tf.square(difference)) / int(np.prod(value.shape))

    def reference_loss(self, target, positions):
        # (1/D) sum c w^2, the loss of a blank image (the mean colour): relative to it,
        # the loss is sum c (x - w)^2 / sum c w^2.
        warped = np.asarray(self.warped, np.float64)
        return float(np.sum(np.asarray(self.consistency)[None, :, :, None] * warped ** 2)
                     / warped.size)


@dataclasses.dataclass(frozen=True)
class Objective:
    """The terms, each group's weight in the total, and the style images' blend.

    `blend` holds one share per style image (normalised to sum 1; equal by
    default): A of a STATISTIC term is the blend of each style image's S. With
    `normalize_gradients` (jcjohnson's -normalize_gradients), each term's
    gradient at its layer is scaled to unit L1 norm before its weight and the
    backward pass (art.engine.backward.NORM_EPSILON); IMAGE terms' are not.
    The losses stay the terms' own.

    `normalization` is art.py's (each term's constants, eq. 1 and 4) or 'relative':
    each term divided by its reference loss (Term.reference_loss): a term with a target by
    its loss at blank features, so that the content loss is |F - P|^2 / |P|^2 and a style
    layer's |G - A|^2 / |A|^2, total variation by the photo's own, whatever the images'
    contrast, the layer's scale or the painting's size.
    """
    terms: Tuple[Term, ...]
    weights: Mapping[str, float]
    blend: Optional[Tuple[float, ...]] = None
    normalize_gradients: bool = False
    normalization: str = ART_PY

    def normalizers(self, targets, positions, content_image):
        """{index: relative weight / reference loss} of each term the normalization divides,
        from the captured `targets` (in order; None where not captured), {layer: M} and the
        content image (network space, IMAGE terms' reference); a term whose reference_loss
        is None (a plug-in's by default) is left out."""
        if self.normalization == ART_PY:
            return {}
        references = {index: term.reference_loss(content_image if term.kind == IMAGE else target,
                                                 positions.get(term.layer))
                      for index, (term, target) in enumerate(zip(self.terms, targets))
                      if target is not None or term.kind == IMAGE}
        return {index: self.terms[index].relative_weight / max(reference, 1e-30)
                for index, reference in references.items() if reference is not None}

    def layers(self):
        """The layers the terms read, in order, each once."""
        return tuple(dict.fromkeys(term.layer for term in self.terms if term.layer))

    def of_kind(self, *kinds):
        """(index, term) of each term of one of `kinds`."""
        return [(index, term) for index, term in enumerate(self.terms) if term.kind in kinds]

    def factor(self, term):
        """A term's weight in the total: its group's times its own."""
        return self.weights[term.group] * term.weight

    def groups(self, term_losses):
        """{group: sum of weight * loss of its terms}, from the terms' losses in order
        (tensors or numbers)."""
        groups = {}
        for term, loss in zip(self.terms, term_losses):
            groups[term.group] = groups.get(term.group, 0) + term.weight * loss
        return groups

    def total(self, groups):
        """Eq. 7, extended to every group: sum of each group's weight * its loss."""
        weighted = [self.weights[group] * loss for group, loss in groups.items()]
        return functools.reduce(operator.add, weighted)


BUILT_IN_STYLE_TERMS = {'gram': GramTerm, 'mean-covariance': MeanCovarianceTerm}


def style_term(style_loss):
    """The term class of a --style-loss (art.constants.STYLE_LOSSES): built in here, or
    art/engine/statistics/NAME.py's STYLE_TERM."""
    if style_loss not in STYLE_LOSSES:
        raise ValueError('style_loss must be one of %s' % ', '.join(STYLE_LOSSES))
    if style_loss in BUILT_IN_STYLE_TERMS:
        return BUILT_IN_STYLE_TERMS[style_loss]
    return importlib.import_module('art.engine.statistics.' + style_loss.replace(
        '-', '_')).STYLE_TERM


def standard_objective(content_layers=CONTENT_LAYERS, style_layers=STYLE_LAYERS,
                       content_weight=BETA, style_weight=ALPHA, tv_weight=0.0,
                       style_blend_weights=None, terms=(), style_loss='gram',
                       style_masks=None, style_image_masks=None, normalize_gradients=False,
                       normalization=ART_PY):
    """art.py's objective (its layers and weights by default), with total variation where
    `tv_weight` is set and any further `terms` (each in a group of its own weight 1
    unless `terms` are (term, group weight) pairs).

    `style_loss` names the style statistic (style_term). With `style_masks`, one mask
    per style image at the painting's pixels, each style is a region's: its terms are
    guided by its mask and take their targets from that image alone (masked by its
    `style_image_masks` entry, at the style image's pixels, where given), weighted by
    its blend weight relative to the mean, so equal weights give every region the
    strength of a single style. `normalization` is one of OBJECTIVES (Objective's).
    """
    if normalization not in OBJECTIVES:
        raise ValueError('normalization must be one of %s' % ', '.join(OBJECTIVES))
    term_class = style_term(style_loss)
    declared = [ContentTerm(layer, weight) for layer, weight in content_layers]
    blend = None if style_blend_weights is None else tuple(style_blend_weights)
    if style_masks is None:
        declared += [term_class(layer, weight) for layer, weight in style_layers]
    else:
        shares = blend or (1.0,) * len(style_masks)
        source_masks = style_image_masks or (None,) * len(style_masks)
        for index, (mask, source_mask) in enumerate(zip(style_masks, source_masks)):
            share = shares[index] * len(shares) / sum(shares)
            declared += [term_class(layer, weight * share, style_source(index), mask,
                                    source_mask) for layer, weight in style_layers]
        blend = None
    weights = {CONTENT: content_weight, STYLE: style_weight}
    if tv_weight:
        declared.append(TotalVariationTerm())
        weights['tv'] = tv_weight
    for extra in terms:
        term, group_weight = extra if isinstance(extra, tuple) else (extra, 1.0)
        declared.append(term)
        weights.setdefault(term.group, group_weight)
    return Objective(tuple(declared), weights, blend, normalize_gradients, normalization)
