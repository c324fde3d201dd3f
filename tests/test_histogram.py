"""The histogram style statistic (`--style-loss histogram`, art/engine/statistics/histogram.py):
its statistic against numpy, its relative distance, its memory in the estimate, and the
command line (tiled and untiled alike: test_regions)."""
import dataclasses
import json

import numpy as np
import pytest

import art
from art.app.job import Job
from art.app.memory import plan_memory
from art.engine import costs
from art.engine.painting import Painting
from art.engine.statistics.histogram import BINS, WIDTH, HistogramTerm
from art.engine.terms import standard_objective
from art.engine.tf1 import tf, tf1
from helpers import pictures, relative, run_here


@pytest.fixture(scope='module')
def network():
    return art.synthetic_weights(width_divisor=16)


def soft_histogram(features, weights=None):
    """Each filter's histogram of log(1 + f), each value split linearly between its two
    nearest bin centres (numpy, float64): (filters, BINS)."""
    flat = features.reshape(-1, features.shape[-1]).astype(np.float64)
    weights = np.ones(len(flat)) if weights is None else weights.reshape(-1).astype(np.float64)
    scaled = np.minimum(np.log1p(flat) / WIDTH, BINS - 1)
    lower = np.minimum(np.floor(scaled), BINS - 2).astype(int)
    upper_share = scaled - lower
    histogram = np.zeros((flat.shape[1], BINS))
    for filter_index in range(flat.shape[1]):
        np.add.at(histogram[filter_index], lower[:, filter_index],
                  weights * (1 - upper_share[:, filter_index]))
        np.add.at(histogram[filter_index], lower[:, filter_index] + 1,
                  weights * upper_share[:, filter_index])
    return histogram


def test_the_statistic_is_each_filters_soft_histogram_of_its_log_responses():
    rng = np.random.default_rng(1)
    # Responses from 0 (every one in the first bin) past the last centre (the last bin).
    features = np.concatenate([np.zeros((1, 3, 4, 5)), rng.gamma(0.5, 300, (1, 9, 4, 5)),
                               np.full((1, 1, 4, 5), 1e5)], axis=1).astype(np.float32)
    weights = rng.uniform(0, 2, (1, 13, 4, 1)).astype(np.float32)
    term = HistogramTerm('conv1_1')
    with tf.Graph().as_default(), tf1.Session() as sess:
        plain, guided = sess.run([term.statistic(tf.constant(features)),
                                  term.statistic(tf.constant(features), tf.constant(weights))])
    np.testing.assert_allclose(plain, soft_histogram(features), rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(guided, soft_histogram(features, weights), rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(plain.sum(axis=1), 13 * 4, rtol=1e-6)  # every position once


def test_the_relative_distance_is_taken_against_blank_features(network):
    """Relative to blank features, all of whose responses fall in the first bin: a style
    layer's loss is |H - A|^2 / |H0 - A|^2, 0 at the style itself."""
    layers = (('conv2_1', 1.0),)
    objective = standard_objective(style_layers=layers, style_loss='histogram',
                                   normalization='relative', content_weight=0.0)
    content, start = pictures(40, 48, count=2, seed=3)
    style, = pictures(40, 48, seed=4)
    with Painting(network, content, style, objective=objective) as painting:
        loss = painting.evaluate(start)[1]
        at_style = painting.losses_at(style)[1]
        model = painting.model
        found = {name: painting.sess.run(model['conv2_1'], {model['image']: image})
                 for name, image in (('start', start), ('style', style))}
    histogram, target = soft_histogram(found['start']), soft_histogram(found['style'])
    blank = np.zeros_like(target)
    blank[:, 0] = found['style'][0, ..., 0].size
    assert relative(loss, np.sum((histogram - target) ** 2) / np.sum((blank - target) ** 2)) <= 1e-4
    assert at_style <= 1e-6 * loss


def test_the_memory_check_counts_its_working_copies(reference, monkeypatch):
    weights = art.synthetic_weights(16)
    monkeypatch.setattr(costs, 'available_memory', lambda: 2**40)
    job = Job(content=reference.content_path, style=reference.style_path, output='o.png',
              width=400, height=300, seed=1, iterations=1)
    needed = {style_loss: plan_memory(dataclasses.replace(job, style_loss=style_loss),
                                      weights)[0] for style_loss in ('gram', 'histogram')}
    # conv1_1 alone: 8 float32 copies of its 64 / 16 filters and one more
    assert needed['histogram'] - needed['gram'] >= 8 * 4 * 300 * 400 * 5


def test_the_command_line_paints_and_explains_with_it(tmp_path, synthetic_files):
    common = ('--weights', synthetic_files['old'], '--width', 48, '--style-loss', 'histogram')
    result = run_here(*common, '--explain', cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert sum(' H ' in line and '%d bins' % BINS in line
               for line in result.stdout.splitlines()) == 5
    result = run_here(*common, '--iterations', 3, '--output', 'h.png', cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    record = json.loads((tmp_path / 'h.json').read_text())
    assert record['job']['style_loss'] == 'histogram' and record['outcome']['status'] == 'done'
