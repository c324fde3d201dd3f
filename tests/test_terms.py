"""The objective as loss terms: a term defined here, outside the package, paints untiled and
tiled alike; Adam runs on tiles with the untiled trajectory."""
import dataclasses

import numpy as np
import pytest
import scipy.linalg

import art
from art.engine import losses
from art.engine.evaluator import Evaluator
from art.engine.painting import Painting
from art.engine.terms import (MEAN_COVARIANCE_WEIGHT, POSITION, STATISTIC, STYLE, Objective, Term,
                              standard_objective)
from art.engine.tf1 import tf
from art.engine.tiling import TiledPainting
from helpers import assert_alike, assert_cropped, pictures, relative


@dataclasses.dataclass(frozen=True)
class MeanTerm(Term):
    """The squared distance of a layer's mean feature from the style images' mean:
    S = sum_p F_p, L = sum ((S - A) / M)^2. phi's backward pass is autodiff's."""
    layer: str = 'conv3_1'
    weight: float = 1.0
    kind = STATISTIC
    group = 'mean'
    source = STYLE

    def statistic(self, features):
        return tf.reduce_sum(features, axis=(0, 1, 2))

    def loss(self, value, target, positions):
        return tf.reduce_sum(tf.square((value - target) / positions))


@dataclasses.dataclass(frozen=True)
class EnergyTerm(Term):
    """The mean squared feature of a layer, with no target: L = sum_p |F_p|^2 / M."""
    layer: str = 'conv2_2'
    weight: float = 1.0
    kind = POSITION
    group = 'energy'

    def loss(self, value, target, positions):
        assert target is None
        return tf.reduce_sum(tf.square(value)) / positions


@pytest.fixture(scope='module')
def network():
    return art.synthetic_weights(width_divisor=16)


def evaluations(network, objective, size, tile, style_size=None):
    """(tiled evaluation, untiled evaluation, {layer: features} at the start, at the style)."""
    content, start = pictures(*size, count=2, seed=3)
    style, = pictures(*(style_size or size), seed=4)
    with TiledPainting(network, content, style, tile, objective=objective) as tiled, \
            Painting(network, content, style, objective=objective) as untiled:
        assert_cropped(tiled, size)
        results = tiled.evaluate(start), untiled.evaluate(start)
    at = []
    for image in (start, style):
        with Painting(network, image, image, objective=objective) as painting:
            model = painting.model
            at.append(painting.sess.run({name: model[name] for name in ('conv2_2', 'conv3_1')},
                                        {model['image']: image}))
    return results + tuple(at)


def positions(features):
    return features.shape[1] * features.shape[2]


def plug_in_losses(at_start, at_style):
    """(MeanTerm's, EnergyTerm's loss) at the start, in numpy: the style's summed features
    rescaled to the painting's positions."""
    start, style = at_start['conv3_1'].astype(np.float64), at_style['conv3_1']
    ours = positions(start)
    target = style.sum(axis=(0, 1, 2), dtype=np.float64) * ours / positions(style)
    mean = np.sum(((start.sum(axis=(0, 1, 2)) - target) / ours) ** 2)
    energy = np.sum(at_start['conv2_2'].astype(np.float64) ** 2) / positions(at_start['conv2_2'])
    return mean, energy


def test_a_term_defined_outside_the_package_paints_untiled_and_tiled_alike(network):
    objective = standard_objective(terms=[(MeanTerm(), 50.0), (EnergyTerm(), 0.01)])
    tiled, untiled, at_start, at_style = evaluations(network, objective, (203, 229), 16)
    assert_alike(tiled, untiled, gradient_tolerance=1e-4)
    plain, _, _, _ = evaluations(network, standard_objective(), (203, 229), 16)
    np.testing.assert_allclose(untiled[:2], plain[:2], rtol=1e-5)  # content and style as before
    mean, energy = plug_in_losses(at_start, at_style)
    added = float(untiled[2]) - 5 * float(untiled[0]) - 100 * float(untiled[1])
    assert relative(added, 50 * mean + 0.01 * energy) <= 1e-3


def test_a_plug_in_term_alone_is_its_own_loss(network):
    """The total of an objective of the test's terms only is their weighted losses,
    computed here in numpy from the graph's features; the style at another size, so
    the mean's target is rescaled to the painting's positions."""
    objective = Objective((MeanTerm(), EnergyTerm()), {'mean': 2.0, 'energy': 0.5})
    tiled, untiled, at_start, at_style = evaluations(network, objective, (120, 136), 16,
                                                     style_size=(64, 72))
    assert_alike(tiled, untiled)
    assert untiled[0] == untiled[1] == 0  # no content or style group
    mean, energy = plug_in_losses(at_start, at_style)
    assert relative(untiled[2], 2.0 * mean + 0.5 * energy) <= 1e-4


def test_adam_on_tiles_follows_the_untiled_trajectory(network):
    content, style, start = pictures(96, 112, count=3, seed=6)
    runs = []
    for painting in (TiledPainting(network, content, style, 32, optimizer='adam',
                                   learning_rate=2.0),
                     Painting(network, content, style, optimizer='adam', learning_rate=2.0)):
        with painting:
            assert isinstance(painting, Evaluator)  # what the optimizers see, both alike
            runs.append(list(art.adam(painting, start, 6)))
    tiled, untiled = runs
    assert [it.iteration for it in tiled] == [it.iteration for it in untiled] == list(range(7))
    assert tiled[-1].total_loss < 0.9 * tiled[0].total_loss
    # Adam divides by sqrt(v): where a gradient is near 0 the two evaluations' 1e-6 grows,
    # so the trajectories part by a few 1e-4 of a level in 6 steps.
    for got, want in zip(tiled, untiled):
        assert relative(got.total_loss, want.total_loss) <= 1e-4, got.iteration
        np.testing.assert_allclose(got.image, want.image, atol=1e-2)


def gram_distance(features, style):
    """|G - A|^2 / |A|^2 of (positions, filters) features."""
    gram, target = (f.T @ f / len(f) for f in (features, style))
    return np.sum((gram - target) ** 2) / np.sum(target ** 2)


def gaussian_distance(features, style):
    """The squared 2-Wasserstein distance of the Gaussian fits (covariances floored as
    art.engine.losses does) over the style's mean second moment, its distance from blank
    features."""
    filters = features.shape[1]
    mean, target_mean = features.mean(axis=0), style.mean(axis=0)
    covariance, target_covariance = (np.cov(f.T, bias=True) for f in (features, style))
    second_moment = (np.trace(target_covariance) + target_mean @ target_mean) / filters
    floor = losses.COVARIANCE_FLOOR * second_moment * np.eye(filters)
    covariance, target_covariance = covariance + floor, target_covariance + floor
    root = np.real(scipy.linalg.sqrtm(target_covariance))
    cross = np.real(scipy.linalg.sqrtm(root @ covariance @ root))
    wasserstein = (np.sum((mean - target_mean) ** 2) + np.trace(covariance)
                   + np.trace(target_covariance) - 2 * np.trace(cross)) / filters
    return wasserstein / second_moment


@pytest.mark.parametrize('style_loss', ['gram', 'mean-covariance'])
def test_the_relative_objective_divides_each_term_by_its_reference_loss(network, style_loss):
    """Content |F - P|^2 / |P|^2, each style layer's |G - A|^2 / |A|^2 (numpy, from the
    graph's features) and total variation over the photo's own, tiled as untiled; a style
    image at another size compares alike."""
    layers = (('conv2_2', 0.5), ('conv3_1', 2.0))
    objective = standard_objective(style_layers=layers, style_loss=style_loss,
                                   normalization='relative', content_weight=2.0,
                                   style_weight=3.0, tv_weight=0.5)
    content, start = pictures(120, 136, count=2, seed=3)
    style, = pictures(64, 72, seed=4)
    with TiledPainting(network, content, style, 16, objective=objective) as tiled, \
            Painting(network, content, style, objective=objective) as untiled:
        assert_cropped(tiled, (120, 136))
        assert_alike(tiled.evaluate(start), untiled.evaluate(start), gradient_tolerance=1e-4)
        content_loss, style_loss_value, total = untiled.evaluate(start)[:3]
    features = {}
    for name, image in (('start', start), ('content', content), ('style', style)):
        with Painting(network, image, image) as painting:
            model = painting.model
            features[name] = painting.sess.run(
                {layer: model[layer] for layer in ('conv4_2', 'conv2_2', 'conv3_1')},
                {model['image']: image})
    at = {name: {layer: value.reshape(-1, value.shape[-1]).astype(np.float64)
                 for layer, value in found.items()} for name, found in features.items()}
    difference = at['start']['conv4_2'] - at['content']['conv4_2']
    assert relative(content_loss, np.sum(difference ** 2) / np.sum(at['content']['conv4_2'] ** 2)
                    ) <= 1e-4
    distance, share = ((gram_distance, 1.0) if style_loss == 'gram'
                       else (gaussian_distance, MEAN_COVARIANCE_WEIGHT))
    want = share * sum(weight * distance(at['start'][layer], at['style'][layer])
                       for layer, weight in layers)
    assert relative(style_loss_value, want) <= 1e-3
    variation = {name: sum(np.sum(np.diff(image.astype(np.float64), axis=axis) ** 2)
                           for axis in (1, 2)) for name, image in (('start', start),
                                                                   ('content', content))}
    assert relative(total, 2.0 * content_loss + 3.0 * style_loss_value
                    + 0.5 * variation['start'] / variation['content']) <= 1e-5



def test_a_plug_in_term_without_a_reference_loss_stays_undivided_in_the_relative_objective(network):
    """The relative objective divides the terms that say their reference loss; a plug-in term
    that does not is weighed as it is, untiled and tiled alike."""
    objective = standard_objective(terms=[(MeanTerm(), 50.0)], normalization='relative',
                                   content_weight=1.0, style_weight=3.0)
    tiled, untiled, at_start, at_style = evaluations(network, objective, (203, 229), 16)
    # The mean term's float32 sum over crops carries the total (7e-5 of it), so the total to 1e-4.
    for got, want, tolerance in zip(tiled[:3], untiled[:3], (1e-5, 1e-5, 1e-4)):
        assert relative(got, want) <= tolerance, (tiled[:3], untiled[:3])
    assert np.linalg.norm(tiled[3] - untiled[3]) <= 1e-4 * np.linalg.norm(untiled[3])
    mean, _ = plug_in_losses(at_start, at_style)
    added = float(untiled[2]) - float(untiled[0]) - 3.0 * float(untiled[1])
    assert relative(added, 50 * mean) <= 1e-3
