"""Issue 24: where and how style lands. Per-region styles (guided Gram matrices), colour
control, the mean-covariance statistic and normalized gradients, each untiled and tiled,
and on the command line with its record, replay, batches and errors."""
import dataclasses
import hashlib
import json
import pathlib

import numpy as np
import pytest
from PIL import Image

import art
from art.app.record import RecordError, check_inputs, recorded_job
from art.engine.guides import downsample, position_weights
from art.engine.painting import Painting
from art.engine.terms import MeanCovarianceTerm, standard_objective
from art.engine.tiling import TiledPainting
from art.io import colors
from helpers import assert_alike, assert_cropped, one_line_error, pictures, run_here, snapshot

RED, BLUE = (200, 40, 40), (40, 60, 210)


@pytest.fixture(scope='module')
def network():
    return art.synthetic_weights(width_divisor=16)


def halves(height, width):
    """Complementary masks: the left half, the right half."""
    left = np.zeros((height, width))
    left[:, :width // 2] = 1
    return left, 1 - left


@pytest.fixture
def picture_files(tmp_path):
    """A content picture, a red and a blue style, left/right/black masks (96x128)."""
    rng = np.random.default_rng(0)
    height, width = 96, 128
    content = rng.uniform(0, 255, (height, width, 3)) * 0.3 + np.array([90, 120, 150]) * 0.7
    files = {'content': content}
    for name, colour in (('red', RED), ('blue', BLUE)):
        files[name] = rng.normal(colour, 30, (height, width, 3))
    left, right = halves(height, width)
    files.update(left=255 * left, right=255 * right, black=np.zeros((height, width)))
    paths = {}
    for name, values in files.items():
        paths[name] = tmp_path / (name + '.png')
        Image.fromarray(np.clip(values, 0, 255).astype(np.uint8)).save(paths[name])
    return paths


def mean_colour(pixels):
    return pixels.reshape(-1, 3).astype(np.float64).mean(0)


def test_two_masked_styles_each_paint_their_own_half(tmp_path, picture_files, synthetic_files):
    """Each half's mean colour is nearer its own style's than the other's; the record keeps
    the masks, the sheet shows them, and --verify paints them again."""
    out = tmp_path / 'out' / 'regions.png'
    # The full-width synthetic network: the narrow one's 4 filters at conv1_1 barely
    # tell red from gray. art.py's objective: its style weight brings a random network's
    # colours in within a few iterations.
    result = run_here('--weights', 'synthetic', '--objective', 'art.py',
                     '--content', picture_files['content'],
                     '--style', picture_files['red'], picture_files['blue'],
                     '--style-masks', picture_files['left'], picture_files['right'],
                     '--width', 64, '--iterations', 15, '--seed', 1, '--output', out,
                     cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    painted = np.asarray(Image.open(out))
    width = painted.shape[1]
    for half, own, other in ((painted[:, :width // 2], RED, BLUE),
                             (painted[:, width // 2:], BLUE, RED)):
        colour = mean_colour(half)
        assert np.linalg.norm(colour - own) < np.linalg.norm(colour - other), colour
    record = json.loads(out.with_suffix('.json').read_text())
    masks = record['inputs']['style_masks']
    assert [entry['path'] for entry in masks] == [str(picture_files['left']),
                                                 str(picture_files['right'])]
    assert all(len(entry['sha256']) == 64 for entry in masks)
    sheet = Image.open(str(out).replace('.png', '-sheet.png'))
    assert sheet.size[0] > 4 * 100  # content, two styles, two masks and the result
    verified = run_here('--verify', out.with_suffix('.json'), cwd=tmp_path)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    Image.fromarray(np.zeros((96, 128), np.uint8) + 255).save(picture_files['left'])
    with pytest.raises(RecordError, match='style mask .*left.png has changed'):
        check_inputs(record, recorded_job(record, 'regions.json'), 'regions.json')


def test_a_region_is_as_strong_per_area_as_the_whole_picture(network):
    """A style on a quarter of a periodic picture has the loss of the style on all of it:
    within 1% at conv1_1 (stride 1) and 5% down to conv3_1, where the quarter's border
    is a larger share of its positions. Without the normalisation the quarter's Gram
    matrix would be a quarter of the whole one's."""
    rng = np.random.default_rng(1)
    for layers, tolerance in ((('conv1_1',), 0.01), (('conv1_1', 'conv2_1', 'conv3_1'), 0.05)):
        quadrant = rng.uniform(-100, 100, (1, 96, 96, 3)).astype(np.float32)
        periodic = np.tile(quadrant, (1, 2, 2, 1))
        style = rng.uniform(-60, 60, (1, 192, 192, 3)).astype(np.float32)
        quarter = np.zeros((192, 192))
        quarter[:96, :96] = 1
        style_loss = {}
        for name, mask in (('whole', np.ones((192, 192))), ('quarter', quarter)):
            objective = standard_objective(style_layers=[(layer, 1.0) for layer in layers],
                                           style_masks=[mask])
            with Painting(network, periodic, [style], objective=objective) as painting:
                style_loss[name] = painting.losses_at(periodic)[1]
        assert abs(style_loss['quarter'] / style_loss['whole'] - 1) <= tolerance, style_loss


def test_a_mask_follows_the_features_down_the_network():
    """Downsampled as SAME 2x2 pooling shrinks the features (odd sides round up), soft
    edges kept; the weights have mean 1; a black mask is refused."""
    mask = np.zeros((5, 7))
    mask[:, :3] = 1
    assert downsample(mask, 2).shape == (3, 4)
    np.testing.assert_allclose(downsample(mask, 2)[0], [1, 0.5, 0, 0])
    assert downsample(mask, 16).shape == (1, 1)
    weights = position_weights(mask, 2)
    assert weights.shape == (1, 3, 4, 1)
    np.testing.assert_allclose(weights.mean(), 1, rtol=1e-6)
    with pytest.raises(ValueError, match='black everywhere'):
        position_weights(np.zeros((4, 4)), 1)


OBJECTIVES = {
    'masked gram': dict(style_masks=True),
    'masked gram, style image masks': dict(style_masks=True, style_image_masks=True),
    'mean-covariance': dict(style_loss='mean-covariance'),
    'masked mean-covariance': dict(style_loss='mean-covariance', style_masks=True),
    'histogram': dict(style_loss='histogram'),
    'masked histogram': dict(style_loss='histogram', style_masks=True),
    'normalized gradients': dict(normalize_gradients=True, tv_weight=1e-3),
    'normalized, masked': dict(normalize_gradients=True, style_masks=True),
}


@pytest.mark.parametrize('name', sorted(OBJECTIVES))
def test_every_new_term_tiled_and_untiled_alike(network, name):
    """The same losses and gradient to 1e-5 (this session's Xeon: at most 1.4e-6), with
    the second style at another size, so its target is captured elsewhere."""
    size = (203, 229)
    options = dict(OBJECTIVES[name])
    if options.pop('style_masks', False):
        options['style_masks'] = halves(*size)
    if options.pop('style_image_masks', False):
        masked = np.zeros((150, 170))
        masked[40:] = 0.7
        options['style_image_masks'] = (None, masked)
    objective = standard_objective(**options)
    content, start = pictures(*size, count=2, seed=3)
    styles = pictures(*size, seed=4) + pictures(150, 170, seed=5)
    with TiledPainting(network, content, styles, 16, objective=objective) as tiled, \
            Painting(network, content, styles, objective=objective) as untiled:
        assert_cropped(tiled, size)
        assert_alike(tiled.evaluate(start), untiled.evaluate(start), gradient_tolerance=1e-5)


def test_mean_covariance_is_zero_at_the_style_and_its_gradient_descends(network):
    """W2 between the style's Gaussian fit and itself is 0; at another image it is positive,
    and a small step against the gradient lowers it."""
    style, = pictures(40, 48, seed=4)
    other, = pictures(40, 48, seed=9)
    objective = standard_objective(style_loss='mean-covariance', content_weight=0.0)
    assert all(isinstance(term, MeanCovarianceTerm) for term in objective.terms[1:])
    with Painting(network, style, [style], objective=objective) as painting:
        assert abs(painting.losses_at(style)[1]) < 1e-3 * painting.losses_at(other)[1]
        _, before, _, gradient = painting.evaluate(other)
        after = painting.losses_at(other - 1e-2 * gradient / np.abs(gradient).max())[1]
    assert after < before


def test_mean_covariance_has_a_gradient_where_a_layer_has_one_position(network):
    """At 12x16 conv5_1 has one position, so the covariances are singular (0): the floor on
    their diagonals keeps the gradient finite, and a central difference agrees with it."""
    content, start = pictures(12, 16, count=2, seed=3)
    style, = pictures(12, 16, seed=4)
    objective = standard_objective(style_loss='mean-covariance', content_weight=0.0)
    direction = np.random.default_rng(0).normal(size=start.shape).astype(np.float32)
    with Painting(network, content, [style], objective=objective) as painting:
        gradient = painting.evaluate(start)[3]
        assert np.all(np.isfinite(gradient))
        step = 0.05
        difference = (painting.losses_at(start + step * direction)[2]
                      - painting.losses_at(start - step * direction)[2]) / (2 * step)
    assert abs(difference - np.vdot(gradient, direction)) <= 0.05 * abs(difference)


def test_normalized_gradients_give_each_term_unit_l1_at_its_layer(network):
    """One term's normalised gradient is independent of its weight and of the loss's
    scale; the losses themselves stay the terms' own."""
    content, start = pictures(40, 48, count=2, seed=3)
    style, = pictures(40, 48, seed=4)
    results = []
    for weight in (1.0, 1e4):
        objective = standard_objective(style_layers=(('conv2_1', 1.0),), style_weight=weight,
                                       content_weight=0.0, normalize_gradients=True)
        with Painting(network, content, [style], objective=objective) as painting:
            results.append(painting.evaluate(start))
    np.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-6)  # the same style loss
    assert norm_error(results[1][3], 1e4 * results[0][3]) <= 1e-5
    plain = standard_objective(style_layers=(('conv2_1', 1.0),), content_weight=0.0)
    with Painting(network, content, [style], objective=plain) as painting:
        unnormalized = painting.evaluate(start)[3]
    # A scale of the plain gradient (one term), not another direction, and not 1.
    scale = np.vdot(results[0][3], unnormalized) / np.vdot(unnormalized, unnormalized)
    assert abs(scale - 1) > 0.5
    assert norm_error(results[0][3], scale * unnormalized) <= 1e-5


def norm_error(got, wanted):
    return np.linalg.norm(got - wanted) / np.linalg.norm(wanted)


@pytest.mark.parametrize('mode', colors.COLOR_MATCHES)
def test_histogram_matching_gives_the_style_the_contents_mean_and_covariance(mode):
    rng = np.random.default_rng(5)
    content = rng.normal((120, 90, 60), (40, 25, 10), (60, 70, 3)) @ np.array(
        [[1, 0.3, 0], [0, 1, 0.2], [0.1, 0, 1]])
    style = rng.gamma(2.0, (30, 50, 12), (50, 40, 3))
    matched = colors.match_colors(style, content, mode)
    flat, target = matched.reshape(-1, 3), content.reshape(-1, 3)
    np.testing.assert_allclose(flat.mean(0), target.mean(0), rtol=1e-3)
    np.testing.assert_allclose(np.cov(flat, rowvar=False), np.cov(target, rowvar=False),
                               rtol=1e-3, atol=1e-3 * np.abs(np.cov(target, rowvar=False)).max())


def test_luminance_only_matches_the_styles_luminance_to_the_contents():
    rng = np.random.default_rng(6)
    content, style = rng.uniform(0, 255, (30, 40, 3)), rng.uniform(100, 140, (20, 20, 3))
    seen_content, (seen_style,) = colors.luminance_only(content, [style])
    for seen in (seen_content, seen_style):
        np.testing.assert_array_equal(seen[..., 0], seen[..., 2])
    y_content, y_style = colors.luminance(content), seen_style[..., 0]
    np.testing.assert_allclose([y_style.mean(), y_style.std()],
                               [y_content.mean(), y_content.std()], rtol=1e-9)


@pytest.mark.parametrize('control', ['luminance', 'histogram'])
def test_color_control_on_the_command_line(tmp_path, picture_files, synthetic_files, control):
    """luminance: the saved image's chroma is the content's, to a level of rounding;
    histogram: the painting is nearer the content's colours than a plain one is."""
    out = tmp_path / ('%s.png' % control)
    common = ['--weights', synthetic_files['new'], '--objective', 'art.py',
              '--content', picture_files['content'],
              '--style', picture_files['red'], '--width', 64, '--iterations', 8, '--seed', 2]
    result = run_here(*common, '--color-control', control, '--output', out, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    content = Image.open(picture_files['content']).resize((64, 48), Image.LANCZOS)
    painted = Image.open(out)
    if control == 'luminance':
        chroma = np.asarray(painted.convert('YCbCr'), np.int16)[..., 1:]
        wanted = np.asarray(content.convert('YCbCr'), np.int16)[..., 1:]
        assert np.abs(chroma - wanted).max() <= 1
    else:
        plain = run_here(*common, '--output', tmp_path / 'plain.png', cwd=tmp_path)
        assert plain.returncode == 0, plain.stderr
        target = mean_colour(np.asarray(content))
        distance = {name: np.linalg.norm(mean_colour(np.asarray(Image.open(path))) - target)
                    for name, path in (('matched', out), ('plain', tmp_path / 'plain.png'))}
        assert distance['matched'] < 0.8 * distance['plain'], distance


@pytest.mark.parametrize('arguments, fragments', [
    (['--style', 'red', 'blue', '--style-masks', 'left'], ['--style-masks gives 1 mask']),
    (['--style', 'red', '--style-masks', 'black'], ['black everywhere']),
    (['--style', 'red', '--style-masks', 'missing'], ['missing.png']),
    (['--style', 'red', '--style-image-masks', 'left'], ['needs --style-masks']),
    (['--style', 'red', '--color-control', 'hue'], ['--color-control', 'invalid choice']),
    (['--style', 'red', '--style-loss', 'wasserstein'], ['--style-loss', 'invalid choice']),
])
def test_bad_masks_and_combinations_are_one_line_errors(tmp_path, picture_files,
                                                        synthetic_files, arguments, fragments):
    named = [str(picture_files.get(value, tmp_path / (value + '.png')))
             if not value.startswith('--') and value not in ('hue', 'histogram') else value
             for value in arguments]
    before = snapshot(tmp_path)
    result = run_here('--weights', synthetic_files['new'], '--content', picture_files['content'],
                     '--width', 32, '--iterations', 1, '--output', tmp_path / 'out.png',
                     *named, cwd=tmp_path)
    one_line_error(result, *fragments)
    assert snapshot(tmp_path) == before


def test_a_batch_sweeps_the_new_settings(tmp_path, picture_files, synthetic_files):
    """JOBS lines take style_masks, color_control, color_match and style_loss, here under
    --scales (the masks resized to each size); the grid is drawn with them as labels."""
    jobs = tmp_path / 'jobs.jsonl'
    jobs.write_text(json.dumps({
        'name': 'regions', 'style': ['red.png', 'blue.png'],
        'style_masks': ['left.png', 'right.png'], 'style_loss': 'mean-covariance',
        'sweep': {'color_control': ['none', 'histogram']}, 'color_match': 'pca',
        'scales': [0.5, 1]}) + '\n')
    result = run_here('--batch', jobs, '--out-dir', tmp_path / 'batch', '--weights',
                     synthetic_files['new'], '--content', picture_files['content'],
                     '--width', 32, '--iterations', 2, '--seed', 1, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    summary = json.loads((tmp_path / 'batch' / 'summary.json').read_text())
    jobs_done = summary['jobs']
    assert len(jobs_done) == 2 and all(job['status'] == 'done' for job in jobs_done), jobs_done
    records = [json.loads((tmp_path / 'batch' / (job['name'] + '.json')).read_text())
               for job in jobs_done]
    assert sorted(r['job']['color_control'] for r in records) == ['histogram', 'none']
    assert all(r['job']['color_match'] == 'pca' and r['job']['style_loss'] == 'mean-covariance'
               and r['outcome']['iterations'] == 4 and r['job']['style_masks'] == [str(picture_files['left']),
                                               str(picture_files['right'])] for r in records)
    assert (tmp_path / 'batch' / 'grid.png').is_file()


def test_explain_lists_the_regions_and_their_terms(tmp_path, picture_files, synthetic_files):
    result = run_here('--weights', synthetic_files['new'], '--content', picture_files['content'],
                     '--style', picture_files['red'], picture_files['blue'],
                     '--style-masks', picture_files['left'], picture_files['right'],
                     '--style-loss', 'mean-covariance', '--normalize-gradients',
                     '--width', 64, '--explain', cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if 'on 50% of the painting' in line]
    assert len(lines) == 10  # five style layers, two regions
    assert sum('style 1' in line for line in lines) == 5
    assert all('(mu, Sigma)' in line and 'x 1/N' in line for line in lines)
    assert 'unit L1 norm' in result.stdout


def test_the_memory_check_counts_the_mean_covariance_copies(reference, monkeypatch):
    """mean-covariance's float64 copies of the style layers' features are in the estimate,
    untiled and on a crop."""
    from art.app.job import Job
    from art.app.memory import plan_memory
    from art.engine import costs
    weights = art.synthetic_weights(16)
    monkeypatch.setattr(costs, 'available_memory', lambda: 2**40)
    job = Job(content=reference.content_path, style=reference.style_path, output='o.png',
              width=400, height=300, seed=1, iterations=1)
    needed = {}
    for style_loss in ('gram', 'mean-covariance'):
        for tile in (0, 128):
            needed[style_loss, tile] = plan_memory(dataclasses.replace(
                job, style_loss=style_loss, tile_size=tile), weights)[0]
    for tile in (0, 128):
        added = needed['mean-covariance', tile] - needed['gram', tile]
        # conv1_1 alone: 2 float64 copies of its 64 / 16 filters and a column of ones
        assert added > 2 * 8 * (tile or 300) * (tile or 400) * 5
    assert needed['mean-covariance', 0] - needed['gram', 0] > \
        needed['mean-covariance', 128] - needed['gram', 128]


def test_a_ray_task_paints_masks_it_was_sent(tmp_path, picture_files, synthetic_files):
    """A Ray task's node need not see the driver's files: the masks travel as bytes with
    the pictures, and the task paints from its own copies (the driver's are gone here)."""
    from art.app import job_files, ray_tasks
    from art.app.job import Job
    from art.app.loading import load_weights
    job = Job(content=str(picture_files['content']), style=(str(picture_files['red']),
                                                           str(picture_files['blue'])),
              style_masks=(str(picture_files['left']), str(picture_files['right'])),
              style_image_masks=(str(picture_files['right']), str(picture_files['left'])),
              output=str(tmp_path / 'out' / 'p.png'), loss_log=str(tmp_path / 'out' / 'p.csv'),
              style_blend_weights=(1.0, 1.0), width=32, height=24, seed=1, iterations=2,
              checkpoint_every=0,
              weights=synthetic_files['new'])
    sent = {path: open(path, 'rb').read() for path in job_files.pictures(job).values()}
    assert len(sent) == 5
    weights = load_weights(job, lambda message: None)
    for path in sent:
        pathlib.Path(path).unlink()
    code, reason, written, paths = ray_tasks._remote_paint(job.to_dict(), sent, weights)  # pylint: disable=protected-access
    assert (code, reason) == (0, None)
    record = json.loads(written['p.json'])
    assert [entry['sha256'] for entry in record['inputs']['style_masks']] == [
        hashlib.sha256(sent[path]).hexdigest() for path in job.style_masks]
