"""A style statistic that is not a Gram matrix: each filter's histogram of its responses.

After Risser, Wilmot and Barnes, "Stable and Controllable Neural Texture Synthesis and
Style Transfer Using Histogram Losses" (arXiv 1701.08893): a Gram matrix matches the
features' second moments, and paintings with the same Gram matrices can still differ in
how each filter's responses are spread. Their loss remaps each filter's values onto the
style's histogram, a sort that is neither a sum over positions nor smooth. This one is
both: a soft histogram, each response u = log(1 + f) split linearly between its two
nearest of BINS centres, so that S[n, b] = sum_p w_p k_b(u_pn) is a sum over positions. It
therefore tiles, takes masks and blends as the Gram matrix does (a STATISTIC term), and
its distance to the style's is eq. 4's with the histogram in place of G.

The whole statistic is this file and its name in art.constants.STYLE_LOSSES, with the
memory its statistic holds: `--style-loss histogram` finds it by that name
(art.engine.terms.style_term).
"""
import dataclasses

import numpy as np

from art.engine import losses
from art.engine.terms import GramTerm, Term
from art.engine.tf1 import tf

# Bin centres 0, WIDTH, ..., (BINS - 1) WIDTH of u = log(1 + f): responses up to about
# e^7.5 = 1800 (VGG-19's relu responses to 0..255 images); larger ones count in the last bin.
BINS, WIDTH = 16, 0.5
# The term's relative_weight (art.engine.terms.Term), measured on the real VGG-19
# (bench/RESULTS.md, "A histogram statistic").
HISTOGRAM_WEIGHT = 1.0


@dataclasses.dataclass(frozen=True, eq=False)
class HistogramTerm(GramTerm):
    """Each filter's soft histogram H (N x BINS) at `layer` against the style images'."""
    symbol = 'H'
    relative_weight = HISTOGRAM_WEIGHT

    def statistic(self, features, weights=None):
        filters = int(features.shape[3])
        scaled = tf.minimum(tf.math.log1p(tf.reshape(features, (-1, filters))) / WIDTH,
                            BINS - 1.0)
        lower = tf.minimum(tf.floor(scaled), BINS - 2.0)
        upper_share = scaled - lower  # the linear kernel's share of the upper bin
        shares = (1.0 - upper_share, upper_share)
        if weights is not None:
            shares = tuple(share * tf.reshape(weights, (-1, 1)) for share in shares)
        bins = tf.cast(lower, tf.int32) + tf.range(filters)[None, :] * BINS
        counts = [tf.math.unsorted_segment_sum(share, bins + step, filters * BINS)
                  for step, share in enumerate(shares)]
        return tf.reshape(counts[0] + counts[1], (filters, BINS))

    def upstream(self, features, d_statistic, weights=None):
        return Term.upstream(self, features, d_statistic, weights)

    def constants(self, filters, positions):
        return 'x 1/(4N^2M^2) = 1/(4*%d^2*%d^2), %d bins' % (filters, positions, BINS)

    def reference_loss(self, target, positions):
        # The loss of blank features, all of whose responses count in the first bin: the
        # loss relative to it is |H - A|^2 / |H0 - A|^2.
        blank = np.zeros(np.shape(target))
        blank[:, 0] = positions
        return (losses.style_normalisation(int(np.shape(target)[0]), positions)
                * float(np.sum(np.square(blank - np.asarray(target, np.float64)))))


STYLE_TERM = HistogramTerm
