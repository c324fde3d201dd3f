"""Issue 25's temporal loss as a loss term: the value and gradient of (1/D) sum c (x - w)^2,
untiled and tiled alike, beside the content and style terms."""
import numpy as np

import art
from art.engine.painting import Painting
from art.engine.terms import TemporalTerm, standard_objective
from art.engine.tiling import TiledPainting
from helpers import assert_alike, assert_cropped, pictures


def test_the_temporal_term_is_its_formula_untiled_and_tiled():
    network = art.synthetic_weights(width_divisor=16)
    size = (203, 229)
    content, start, warped = pictures(*size, count=3, seed=3)
    style, = pictures(*size, seed=4)
    consistency = (np.random.default_rng(2).uniform(size=size) > 0.3).astype(np.float32)
    term = TemporalTerm(warped, consistency)
    alone = standard_objective(content_weight=0.0, style_weight=0.0, terms=[(term, 7.0)])
    with Painting(network, content, [style], objective=alone) as painting:
        *_, total, gradient = painting.evaluate(start)
    values = start.size
    mask = consistency[None, :, :, None]
    np.testing.assert_allclose(total, 7.0 * np.sum(mask * (start - warped) ** 2) / values,
                               rtol=1e-5)
    np.testing.assert_allclose(gradient, 7.0 * 2 * mask * (start - warped) / values,
                               rtol=1e-4, atol=1e-9)
    objective = standard_objective(terms=[(term, 1e4)])
    with TiledPainting(network, content, [style], 16, objective=objective) as tiled, \
            Painting(network, content, [style], objective=objective) as untiled:
        assert_cropped(tiled, size)
        assert_alike(tiled.evaluate(start), untiled.evaluate(start), gradient_tolerance=1e-4)
