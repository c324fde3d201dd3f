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
import operator
from typing import Mapping, Optional, Tuple

from art.engine import losses
from art.constants import ALPHA, BETA, CONTENT_LAYERS, STYLE_LAYERS
from art.engine.tf1 import tf, tf1

POSITION, STATISTIC, IMAGE = 'position', 'statistic', 'image'
# The images a target is captured from: the content image, or the style images
# (each captured, rescaled to the painting's positions and blended).
CONTENT, STYLE = 'content', 'style'


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

    def statistic(self, features):
        """S over the positions of `features` (STATISTIC terms)."""
        raise NotImplementedError

    def upstream(self, features, d_statistic):
        """dL/dF at `features` given dL/dS: by default phi's autodiff. A term may give
        the closed form instead, without the backward buffers of phi's products."""
        return tf1.gradients(self.statistic(features), features, grad_ys=d_statistic)[0]

    # The target's name in the paper (p, A), for --explain.
    symbol = 'T'

    def describe(self):
        """The term in words, for errors and --explain."""
        return '%s term %s (%s)' % (self.group, self.layer or 'on the image', self.kind)

    def constants(self, filters, positions):
        """The term's constants at a layer of N `filters` and M `positions`, in words."""
        return ''


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


@dataclasses.dataclass(frozen=True)
class GramTerm(Term):
    """Eq. 4 at `layer`: the Gram matrix G = F^T F (eq. 3) against the style images' A."""
    layer: str
    weight: float = 1.0
    kind = STATISTIC
    group = STYLE
    source = STYLE
    symbol = 'A'

    def statistic(self, features):
        return losses.gram_matrix(features)

    def loss(self, value, target, positions):
        return losses.style_layer_loss(target, value, int(value.shape[0]), positions)

    def upstream(self, features, d_statistic):
        # dE/dF = F (D + D^T) with D = dE/dG: eq. 4's gradient 4k F (G - A), from the
        # interior directly.
        filters = int(features.shape[3])
        flat = tf.reshape(features, (-1, filters))
        return tf.reshape(tf.matmul(flat, d_statistic + tf.transpose(d_statistic)),
                          tf.shape(features))

    def constants(self, filters, positions):
        return 'x 1/(4N^2M^2) = 1/(4*%d^2*%d^2)' % (filters, positions)


@dataclasses.dataclass(frozen=True)
class TotalVariationTerm(Term):
    """Total variation of the image (not in the paper or art.py; the later
    implementations add it to smooth high-frequency noise)."""
    weight: float = 1.0
    kind = IMAGE
    group = 'tv'

    def loss(self, value, target, positions):
        return losses.total_variation_loss(value)


@dataclasses.dataclass(frozen=True)
class Objective:
    """The terms, each group's weight in the total, and the style images' blend.

    `blend` holds one share per style image (normalised to sum 1; equal by
    default): A of a STATISTIC term is the blend of each style image's S.
    """
    terms: Tuple[Term, ...]
    weights: Mapping[str, float]
    blend: Optional[Tuple[float, ...]] = None

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


def standard_objective(content_layers=CONTENT_LAYERS, style_layers=STYLE_LAYERS,
                       content_weight=BETA, style_weight=ALPHA, tv_weight=0.0,
                       style_blend_weights=None, terms=()):
    """art.py's objective (its layers and weights by default), with total variation where
    `tv_weight` is set and any further `terms` (each in a group of its own weight 1
    unless `terms` are (term, group weight) pairs)."""
    declared = [ContentTerm(layer, weight) for layer, weight in content_layers]
    declared += [GramTerm(layer, weight) for layer, weight in style_layers]
    weights = {CONTENT: content_weight, STYLE: style_weight}
    if tv_weight:
        declared.append(TotalVariationTerm())
        weights['tv'] = tv_weight
    for extra in terms:
        term, group_weight = extra if isinstance(extra, tuple) else (extra, 1.0)
        declared.append(term)
        weights.setdefault(term.group, group_weight)
    return Objective(tuple(declared), weights,
                     None if style_blend_weights is None else tuple(style_blend_weights))
