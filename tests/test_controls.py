"""Issue 6's controls: each changes what it must, and the defaults stay art.py's."""
import numpy as np
import pytest
from PIL import Image

import art
import art.app.cli
import art.app.resolving
from art.engine import stylize as engine
from art import examples
from art.io import images
from art.engine.painting import capture_at_size
from art.engine.terms import STATISTIC
from art.app.loading import Pictures
from helpers import one_line_error, read_log, run_here


@pytest.fixture(scope='module')
def weights():
    return art.synthetic_weights(width_divisor=16, seed=7)


@pytest.fixture(scope='module')
def pair(reference):
    return (art.load_image(reference.content_path, 32, 40),
            art.load_image(reference.style_path, 32, 40))


def evaluate(weights, content, style, start, **options):
    with art.Painting(weights, content, style, **options) as painting:
        return painting.evaluate(start)[:3], painting.style_targets


def test_two_identical_style_images_give_the_losses_of_one(weights, pair):
    content, style = pair
    start = art.generate_noise_image(content, seed=0)
    one, _ = evaluate(weights, content, style, start)
    two, _ = evaluate(weights, content, [style, style], start)
    np.testing.assert_allclose(two, one, rtol=1e-6)


def test_blend_weights_are_normalised_and_blend_the_gram_matrices(weights, pair):
    content, style = pair
    other = art.generate_noise_image(style, noise_ratio=1.0, seed=3) * 3
    start = art.generate_noise_image(content, seed=0)
    _, first = evaluate(weights, content, style, start)
    _, second = evaluate(weights, content, other, start)
    _, blended = evaluate(weights, content, [style, other], start, style_blend_weights=[3, 1])
    _, scaled = evaluate(weights, content, [style, other], start, style_blend_weights=[6, 2])
    only_first, _ = evaluate(weights, content, [style, other], start, style_blend_weights=[1, 0])
    for layer in first:
        np.testing.assert_allclose(blended[layer], 0.75 * first[layer] + 0.25 * second[layer],
                                   rtol=1e-5)
        np.testing.assert_allclose(scaled[layer], blended[layer], rtol=1e-6)
    np.testing.assert_allclose(only_first, evaluate(weights, content, style, start)[0], rtol=1e-6)
    with pytest.raises(ValueError, match='one non-negative blend weight per style image'):
        art.Painting(weights, content, [style, other], style_blend_weights=[1])


def test_style_captured_in_a_graph_of_its_own_size_matches_the_shared_graph(weights, pair):
    content, style = pair
    _, shared = evaluate(weights, content, style, content)
    with art.Painting(weights, content, style) as painting:
        terms = [term for term in painting.objective.terms if term.kind == STATISTIC]
        captured, positions = capture_at_size(weights, style, terms, range(len(terms)), 'avg')
        assert positions == {term.layer: painting.positions[term.layer] for term in terms}
        separate = {term.layer: captured[index] for index, term in enumerate(terms)}
    for layer in shared:
        np.testing.assert_allclose(separate[layer], shared[layer], rtol=1e-4)


def test_style_scale_changes_the_targets_and_rescales_them_by_positions(weights, pair):
    content, style = pair
    pixels = images.to_pixels(style)
    small = images.preprocess(pixels, 16, 20)
    _, same = evaluate(weights, content, style, content)
    _, scaled = evaluate(weights, content, small, content)
    assert not np.allclose(scaled['conv1_1'], same['conv1_1'])
    # Summed over a quarter of the positions, then scaled by 4: same magnitude.
    ratio = np.abs(scaled['conv1_1']).sum() / np.abs(same['conv1_1']).sum()
    assert 0.5 < ratio < 2


def test_preserve_colors_keeps_the_contents_chroma(reference):
    content = np.asarray(Image.open(reference.content_path).convert('RGB'))
    painted = np.asarray(Image.open(reference.style_path).convert('RGB'))
    kept = images.preserve_colors(painted, content)

    def ycbcr(pixels):
        return np.asarray(Image.fromarray(pixels).convert('YCbCr')).astype(int)
    kept_chroma = np.abs(ycbcr(kept)[..., 1:] - ycbcr(content)[..., 1:])
    painted_chroma = np.abs(ycbcr(painted)[..., 1:] - ycbcr(content)[..., 1:])
    # Where painted luminance and content chroma fall outside RGB, clipping
    # moves the chroma: exact for the typical pixel, not for every one.
    assert np.median(kept_chroma) <= 1
    assert kept_chroma.mean() < 0.15 * painted_chroma.mean()
    assert np.median(np.abs(ycbcr(kept)[..., 0] - ycbcr(painted)[..., 0])) <= 1


def total_variation(image):
    return (np.square(np.diff(image, axis=1)).sum() + np.square(np.diff(image, axis=2)).sum())


def test_tv_weight_lowers_the_total_variation_of_the_result(weights, pair):
    content, style = pair
    start = art.generate_noise_image(content, seed=0)
    plain = list(art.stylize(weights, content, style, 10, initial_image=start))[-1]
    smooth = list(art.stylize(weights, content, style, 10, initial_image=start,
                              tv_weight=1e3))[-1]
    assert total_variation(smooth.image) < 0.7 * total_variation(plain.image)


def test_content_weight_blend_splits_the_content_loss(weights, pair):
    content, style = pair
    start = art.generate_noise_image(content, seed=0)
    conv4_2, _ = evaluate(weights, content, style, start)
    conv5_2, _ = evaluate(weights, content, style, start, content_layers=[('conv5_2', 1.0)])
    split, _ = evaluate(weights, content, style, start,
                        content_layers=[('conv4_2', 0.3), ('conv5_2', 0.7)])
    assert split[0] == pytest.approx(0.3 * conv4_2[0] + 0.7 * conv5_2[0], rel=1e-5)


def job_of(*argv):
    return art.app.resolving.resolve(art.app.cli.job_settings(art.app.cli.build_parser().parse_args(list(argv))))


def settings(*argv):
    job = job_of(*argv)
    return job.content_layers, job.style_layers


def test_layer_flags_become_weighted_layers():
    assert settings() == ((('conv4_2', 1.0),), art.STYLE_LAYERS)
    assert settings('--content-weight-blend', '0.3') == (
        (('conv4_2', 0.3), ('conv5_2', 0.7)), art.STYLE_LAYERS)
    assert settings('--content-layers', 'conv3_2', 'conv4_1', '--content-weight-blend', '1')[0] == (
        ('conv3_2', 1.0), ('conv4_1', 0.0))
    assert settings('--style-layers', 'conv1_1', 'conv3_1')[1] == (('conv1_1', 1.0),
                                                                  ('conv3_1', 1.0))
    assert settings('--style-layers', 'conv2_2', '--style-layer-weights', '2')[1] == (
        ('conv2_2', 2.0),)


@pytest.mark.parametrize('argv,message', [
    (['--style-layers', 'conv6_1'], "unknown layer 'conv6_1'; the network has conv1_1"),
    (['--content-layers', 'relu4_2'], "unknown layer 'relu4_2'"),
    (['--style-layers', 'conv1_1', 'conv2_1', '--style-layer-weights', '1'],
     '--style-layer-weights gives 1 weights for 2 style layers'),
    (['--content-layers', 'conv4_2', '--content-weight-blend', '0.5'],
     '--content-weight-blend splits between two content layers'),
    (['--style-blend-weights', '1', '2'], '--style-blend-weights gives 2 weights for 1 style'),
    (['--scales', '0.5', '0.25', '1'], '--scales must increase and end at 1'),
    (['--scales', '0.5'], '--scales must increase and end at 1'),
    (['--init', 'image'], '--init image needs --init-image PATH'),
])
def test_bad_controls_are_one_line_errors(tmp_path, synthetic_files, argv, message):
    result = run_here('--weights', synthetic_files['old'], *argv, cwd=tmp_path)
    one_line_error(result, message)
    assert not (tmp_path / 'output').exists()


def test_init_choices(pair, tmp_path):
    content, style = pair
    np.testing.assert_array_equal(images.initial_image('content', content), content)
    noise = images.initial_image('noise', content, seed=4)
    np.testing.assert_array_equal(noise, art.generate_noise_image(content, 1.0, seed=4))
    assert np.abs(noise).max() <= 20
    np.testing.assert_array_equal(images.initial_image('mix', content, 0.6, seed=4),
                                  art.generate_noise_image(content, 0.6, seed=4))
    np.testing.assert_array_equal(images.initial_image('image', content, image=style), style)


def test_kernel_layout_changes_the_network(weights, pair):
    content, style = pair
    start = art.generate_noise_image(content, seed=0)
    stored, _ = evaluate(weights, content, style, start)
    swapped, _ = evaluate(weights.transposed(), content, style, start)
    assert not np.allclose(stored, swapped)
    np.testing.assert_array_equal(weights.transposed().transposed().layers['conv3_1'].kernel,
                                  weights.layers['conv3_1'].kernel)


def test_scales_run_small_first_and_count_on(weights, reference):
    pictures = Pictures(art.read_rgb(reference.content_path), [art.read_rgb(reference.style_path)],
                        None)
    job = art.Job(content=reference.content_path, style=[reference.style_path], output='p.png',
                  width=40, height=32, seed=0, iterations=3, scales=(0.5, 1))
    iterates = list(engine.paint(job, weights, pictures))
    assert [it.iteration for it in iterates] == list(range(7))
    assert [it.image.shape[1:3] for it in iterates] == [(16, 20)] * 4 + [(32, 40)] * 3
    evaluations = [it.evaluations for it in iterates]
    assert evaluations == sorted(evaluations)
    # art.py's noise/content mix is made at the first (smallest) size, not blurred down.
    small_content = images.preprocess(pictures.content, 16, 20)
    np.testing.assert_array_equal(iterates[0].image,
                                  art.generate_noise_image(small_content, 0.6, seed=0))


def test_objective_art_py_is_art_py_and_reproduces_the_reference(reference, reference_weights):
    """Every control at its default with --objective art.py is art.py's run; the default
    objective differs from it in its normalisation and weights only."""
    job = job_of('--objective', 'art.py')
    options = job.painting_options()
    assert options == dict(content_layers=(('conv4_2', 1.0),), style_layers=art.STYLE_LAYERS,
                           content_weight=art.BETA, style_weight=art.ALPHA, pooling='avg',
                           optimizer='lbfgs', learning_rate=2.0, style_blend_weights=(1.0,),
                           tv_weight=0.0, style_loss='gram', normalize_gradients=False,
                           normalization='art.py')
    default = job_of().painting_options()
    assert {name for name in options if options[name] != default[name]} == {
        'content_weight', 'style_weight', 'normalization'}
    assert (job.style_scale, job.init, job.kernel_layout, job.scales,
            job.preserve_colors) == (1.0, 'mix', 'as-stored', (1.0,), False)
    assert (job.style_masks, job.style_image_masks, job.color_control) == ((), (), 'none')
    assert (job.width, job.height, job.noise_ratio, job.iterations) == (800, 600, 0.6, 1000)
    arrays = reference.arrays
    with art.Painting(reference_weights, arrays['content'], [arrays['style']], **options) as painting:
        content, style, total, _ = painting.evaluate(arrays['x0'])
    assert content == pytest.approx(reference.scalars['content_loss_x0'], rel=1e-4)
    assert style == pytest.approx(reference.scalars['style_loss_x0'], rel=1e-4)
    assert total == pytest.approx(reference.scalars['total_loss_x0'], rel=1e-4)


def test_every_control_end_to_end(tmp_path, synthetic_files, reference):
    output = tmp_path / 'out' / 'p.png'
    result = run_here('--weights', synthetic_files['new'], '--width', 40, '--iterations', 3,
                     '--style', reference.style_path, reference.content_path,
                     '--style-blend-weights', 3, 1, '--style-scale', 0.5, '--preserve-colors',
                     '--tv-weight', 1, '--content-weight-blend', 0.7, '--init', 'image',
                     '--init-image', reference.style_path, '--kernel-layout', 'transposed',
                     '--style-layers', 'conv1_1', 'conv2_1', '--style-layer-weights', 1, 2,
                     '--scales', 0.5, 1, '--output', output, '--checkpoint-every', 0, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert 'at scales 0.5 1' in result.stdout and '6 iterations' in result.stdout
    assert images.read_rgb(str(output)).shape == (30, 40, 3)


@pytest.fixture(scope='module')
def plain_run(tmp_path_factory, synthetic_files):
    """A short run of the command line at the defaults, to hold each control's run against."""
    return control_run(tmp_path_factory.mktemp('plain'), synthetic_files)


def control_run(folder, synthetic_files, *flags):
    """(loss log rows, checkpoint 0's pixels, the result's pixels) of a 40x30 run with `flags`."""
    code = art.app.cli.main([str(a) for a in (
        '--weights', synthetic_files['new'], '--width', 40, '--iterations', 1, '--seed', 0,
        '--checkpoint-every', 1, '--loss-log', folder / 'log.csv', '--output', folder / 'p.png')
        + flags])
    assert code == 0
    return (read_log(folder / 'log.csv')[1], images.read_rgb(str(folder / 'p-0.png')),
            images.read_rgb(str(folder / 'p.png')))


def test_style_scale_reaches_the_style_targets(tmp_path, synthetic_files, plain_run):
    rows, _, _ = control_run(tmp_path, synthetic_files, '--style-scale', 0.5)
    assert rows[0, 3] == plain_run[0][0, 3]  # content: the same start, the same target
    assert rows[0, 4] != pytest.approx(plain_run[0][0, 4], rel=1e-3)


def test_kernel_layout_reaches_the_network(tmp_path, synthetic_files, plain_run):
    rows, start, _ = control_run(tmp_path, synthetic_files, '--kernel-layout', 'transposed')
    np.testing.assert_array_equal(start, plain_run[1])
    assert rows[0, 3] != pytest.approx(plain_run[0][0, 3], rel=1e-3)
    assert rows[0, 4] != pytest.approx(plain_run[0][0, 4], rel=1e-3)


def test_init_image_is_where_the_painting_starts(tmp_path, synthetic_files, plain_run,
                                                 reference):
    _, start, _ = control_run(tmp_path, synthetic_files, '--init', 'image', '--init-image',
                              reference.style_path)
    expected = images.to_pixels(images.preprocess(images.read_rgb(reference.style_path), 30, 40))
    np.testing.assert_array_equal(start, expected)
    assert not np.array_equal(start, plain_run[1])


def test_preserve_colors_reaches_every_saved_image(tmp_path, synthetic_files, plain_run):
    rows, start, result = control_run(tmp_path, synthetic_files, '--preserve-colors')
    np.testing.assert_array_equal(rows[:, 3:], plain_run[0][:, 3:])  # colour is put back after
    content = images.read_rgb(examples.CONTENT)
    for kept, painted in ((start, plain_run[1]), (result, plain_run[2])):
        np.testing.assert_array_equal(kept, images.preserve_colors(painted, content))
        assert not np.array_equal(kept, painted)
