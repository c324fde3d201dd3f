"""Tiled evaluation equals untiled evaluation, to float rounding."""
import collections
import ctypes
import dataclasses
import os
import subprocess
import sys

import numpy as np
import pytest

import art
from art.engine import cpu
from art.engine.crops import crop_length, crop_shape, spans
from art.engine.painting import Painting
from art.app.record import read_record
from art.network.layers import halo_for, receptive_field
from art.engine.tf1 import tf
from art.engine.crop_graph import CropGraph
from art.engine.tiling import TiledPainting
from helpers import assert_cropped, paint, pictures, read_log, relative


@pytest.fixture(scope='module')
def network():
    return art.synthetic_weights(width_divisor=16)


def assert_same_evaluation(tiled, untiled, image):
    *tiled_losses, tiled_gradient = tiled.evaluate(image)
    *losses, gradient = untiled.evaluate(image)
    for got, want in zip(tiled_losses, losses):
        assert relative(got, want) <= 1e-5, (tiled_losses, losses)
    error = np.linalg.norm(tiled_gradient - gradient) / np.linalg.norm(gradient)
    assert error <= 1e-4, error
    return error


def test_the_receptive_field_of_vgg19():
    # 3x3 convolutions: two at stride 1, two at 2, four at 4, four at 8, conv5_1 at 16.
    assert receptive_field('conv5_1') == (16, 70)  # a field 16 + 2 * 70 = 156 pixels wide
    assert receptive_field('conv4_2') == (8, 38)
    assert receptive_field('conv1_1', 'max') == (1, 1)
    assert halo_for('conv5_1') == (16, 80)
    assert halo_for('conv3_1') == (4, 12)


def test_spans_partition_the_axis_in_crops_of_one_length_that_stop_at_the_borders():
    # Crops of at most 32 + 2 * 16 pixels (+ 100 % 16, which puts the last start on a
    # multiple of 16), no halo beyond a border: two crops of 68 cover 100, the border
    # tiles taking the halo's room.
    assert spans(100, 32, 16, 16) == [(0, 68, 0, 48), (32, 100, 48, 100)]
    assert spans(20, 32, 16, 16) == [(0, 20, 0, 20)]
    found = spans(1000, 128, 80, 16)
    assert [end - start for start, end, _, _ in found] == [296] * 7
    assert all(start % 16 == 0 for start, *_ in found)  # 1000 - 296 = 704 = 44 * 16
    for length in range(177, 2600, 41):
        for tile in (16, 48, 128, 256, 768):
            for halo in (16, 64, 80):
                found = spans(length, tile, halo, 16)
                assert found[0][2] == 0 and found[-1][3] == length
                assert all(a[3] == b[2] for a, b in zip(found, found[1:]))  # a partition
                for crop_start, crop_end, start, end in found:
                    assert crop_start % 16 == 0 and start % 16 == 0 and start < end
                    assert crop_start <= max(0, start - halo) and crop_end >= min(length, end + halo)
                    assert crop_end <= length
                lengths = {end - start for start, end, _, _ in found}
                assert len(lengths) == 1  # one crop shape per image size
                assert len(found) == 1 or lengths.pop() <= tile + 2 * halo + length % 16
                if len(found) > 1:  # no fewer crops would do
                    assert crop_length(length, len(found) - 1, halo, 16) \
                        > tile + 2 * halo + length % 16 or len(found) == 2
    # 1600 on 512-pixel tiles: three crops of 640, not four of 480 to 560.
    assert spans(1600, 512, 80, 16) == [(0, 640, 0, 560), (480, 1120, 560, 1040),
                                        (960, 1600, 1040, 1600)]
    assert spans(600, 448, 80, 16) == [(0, 600, 0, 600)]  # one crop holds the axis


@pytest.mark.parametrize('size, tile, pooling', [
    ((203, 229), 16, 'avg'),   # odd sizes, tiles far smaller than the halo (80)
    ((303, 431), 96, 'max'),   # tiles larger than the halo, max pooling
    ((224, 240), 32, 'avg'),
])
def test_tiled_equals_untiled(network, size, tile, pooling):
    content, style, start = pictures(*size, count=3)
    options = dict(pooling=pooling)
    with TiledPainting(network, content, style, tile, **options) as tiled, \
            Painting(network, content, style, **options) as untiled:
        assert_cropped(tiled, size)
        assert_same_evaluation(tiled, untiled, start)


def test_tiled_equals_untiled_with_every_control(network):
    """Two styles blended, one at another size (style scale), other layers and weights,
    a content layer other than conv4_2, TV loss."""
    content, start = pictures(250, 260, count=2, seed=3)
    styles = pictures(250, 260, seed=4) + pictures(60, 46, seed=5)
    options = dict(content_layers=(('conv3_2', 0.3), ('conv5_2', 0.7)),
                   style_layers=(('conv1_1', 1.0), ('conv2_1', 2.0), ('conv4_1', 0.5)),
                   content_weight=2.0, style_weight=300.0, style_blend_weights=(1, 3),
                   tv_weight=0.01)
    with TiledPainting(network, content, styles, 16, **options) as tiled, \
            Painting(network, content, styles, **options) as untiled:
        assert_cropped(tiled, (250, 260))
        assert_same_evaluation(tiled, untiled, start)


def test_an_evaluation_runs_every_crop_twice_but_the_last(network, monkeypatch):
    """Pass 1 skips the last crop, whose pass-2 run completes G: 2K - 1 crop runs for K
    crops, and an image of one crop runs once, as the untiled graph does."""
    runs = []
    run = CropGraph.run
    monkeypatch.setattr(CropGraph, 'run', lambda graph, *args: runs.append(args) or run(graph, *args))
    for size, tile in (((200, 230), 32), ((120, 100), 512)):
        content, style, start = pictures(*size, count=3)
        with TiledPainting(network, content, style, tile) as tiled, \
                Painting(network, content, style) as untiled:
            runs.clear()
            assert_same_evaluation(tiled, untiled, start)
            assert len(runs) == 2 * len(tiled.crops.crops()) - 1


def test_a_crop_graph_runs_two_signatures_only(network, monkeypatch):
    """Each new (fetches, feeds) a session runs costs an executor holding its own copy of
    the weights: captures, pass 1 and pass 2 (the run completing G or not) run two per
    crop graph."""
    seen = collections.defaultdict(set)
    run = CropGraph.run

    def recorded(graph, fetch, crop, interior, row, column, feeds):
        seen[id(graph)].add((tuple(sorted(t.name for t in tf.nest.flatten(fetch))),
                             tuple(sorted(t.name for t in feeds))))
        return run(graph, fetch, crop, interior, row, column, feeds)

    monkeypatch.setattr(CropGraph, 'run', recorded)
    content, style, start = pictures(200, 230, count=3)
    with TiledPainting(network, content, style, 32) as tiled:
        tiled.evaluate(start)
        tiled.evaluate(content)
        assert len(tiled.crops.crops()) >= 4
        assert len(seen) == len(tiled.crops.graphs) == 1  # one crop shape per size
        # the shape the memory check and the record count
        assert list(tiled.crops.graphs) == [crop_shape((200, 230), 32, 80, 16)]
    assert all(len(signatures) == 2 for signatures in seen.values()), seen


def test_a_halo_one_stride_too_small_is_not_exact(network):
    content, style, start = pictures(200, 230, count=3)
    with TiledPainting(network, content, style, 32, halo=64) as short, \
            Painting(network, content, style) as untiled:
        assert_cropped(short, (200, 230))
        *_, short_gradient = short.evaluate(start)
        *_, gradient = untiled.evaluate(start)
    assert np.linalg.norm(short_gradient - gradient) / np.linalg.norm(gradient) > 1e-3


def assert_untiled_losses(iterates, untiled):
    """Each iterate's losses are the untiled graph's at the iterate's own image.

    L-BFGS magnifies the 1e-6 between the two evaluations at each iteration, so two
    runs' paths part after a few iterations (by how much follows the CPU's rounding):
    what tiles promise is the whole image's numbers at every image they are given."""
    for iterate in iterates:
        content, style, total, _ = untiled.evaluate(iterate.image)
        for got, want in zip((iterate.content_loss, iterate.style_loss, iterate.total_loss),
                             (content, style, total)):
            assert relative(got, want) <= 1e-5, (iterate.iteration, got, want)


def test_lbfgs_runs_on_tiles_with_the_untiled_losses(network):
    content, style, start = pictures(80, 64, count=3, seed=11)
    with TiledPainting(network, content, style, 32) as tiled:
        tiled_run = list(art.lbfgs(tiled, start, 5))
    with Painting(network, content, style) as untiled:
        assert [it.iteration for it in tiled_run] == list(range(6))
        assert tiled_run[-1].total_loss < 0.5 * tiled_run[0].total_loss
        assert_untiled_losses(tiled_run, untiled)


def _run_flags(tmp_path, synthetic_files, name, *flags):
    return ('--weights', synthetic_files['old'], '--width', '250', '--height', '240',
            '--iterations', '4', '--seed', '3', '--checkpoint-every', '0',
            '--output', tmp_path / ('%s.png' % name),
            '--loss-log', tmp_path / ('%s.csv' % name)) + flags


def test_a_tiled_run_logs_the_untiled_losses(tmp_path, capsys, synthetic_files, monkeypatch):
    """The command line on --tile-size: its log holds, row by row, the untiled losses of
    the image each row stands for; the start, the same for both, logs what an untiled run
    logs."""
    from art.engine import stylize as engine
    from art.app import runner
    from art.app.job import Job
    seen = []
    add = runner.Progress.add
    monkeypatch.setattr(runner.Progress, 'add',
                        lambda progress, iterate: seen.append(iterate) or add(progress, iterate))
    code, out, _ = paint(capsys, *_run_flags(tmp_path, synthetic_files, 'tiled',
                                             '--tile-size', '40'))
    assert code == 0, out
    assert ('250x240 on tiles: 4 crops of 218x208 pixels, each a tile with a halo of 80 '
            "pixels (tiles of 48 pixels, longer at the image's borders") in out
    iterates, seen[:] = list(seen), []
    assert paint(capsys, *_run_flags(tmp_path, synthetic_files, 'whole'))[0] == 0
    tiled, whole = (read_log(tmp_path / name)[1] for name in ('tiled.csv', 'whole.csv'))
    assert tiled.shape == whole.shape == (5, 6)
    np.testing.assert_allclose(tiled[0, 3:], whole[0, 3:], rtol=1e-5)
    np.testing.assert_allclose(tiled[:, 3:], [[it.content_loss, it.style_loss, it.total_loss]
                                              for it in iterates], rtol=1e-8)
    record = read_record(str(tmp_path / 'tiled.json'))
    job = Job.from_dict(record['job'])
    content, styles = engine.network_images(job, runner.read_pictures(job), job.size)
    with Painting(art.read_vgg19(synthetic_files['old']), content, styles,
                  **job.painting_options()) as untiled:
        assert_untiled_losses(iterates, untiled)
    environment = record['environment']
    rows, columns = spans(240, 48, 80, 16), spans(250, 48, 80, 16)
    covered = sum(r[1] - r[0] for r in rows) * sum(c[1] - c[0] for c in columns)
    assert environment['tiling'] == [{'size': [240, 250], 'tile': 48, 'halo': 80, 'crops': 4,
                                      'crop': [208, 218],
                                      'overhead': round(covered / (240 * 250), 3)}]
    assert read_record(str(tmp_path / 'whole.json'))['environment']['tiling'] == []


def test_tiles_are_chosen_when_the_whole_image_does_not_fit(tmp_path, capsys, synthetic_files,
                                                            monkeypatch, reference):
    from art.engine import costs
    from art.app.job import Job
    from art.app.runner import plan_memory
    weights = art.synthetic_weights(16)
    job = Job(content=reference.content_path, style=reference.style_path, output='o.png',
              width=400, height=300, seed=1, iterations=1, scales=(0.5, 1))
    form = cpu.engine_weight_form()  # constants where oneDNN runs AVX2 kernels
    whole = costs.estimate_memory(300, 400, weights.widths(), 'conv5_1', 20, form)
    monkeypatch.setattr(costs, 'available_memory', lambda: whole - 1)
    needed, tiles = plan_memory(job, weights)
    assert tiles == {(150, 200): None, (300, 400): 128}  # the largest of TILE_SIZES that fits
    assert needed == costs.estimate_tiled_memory(
        300, 400, crop_shape((300, 400), 128, 80, 16), weights.widths(), 'conv5_1', 20,
        form) < whole
    assert plan_memory(dataclasses.replace(job, tile_size=50), weights)[1][300, 400] == 64
    code, _, err = paint(capsys, *_run_flags(tmp_path, synthetic_files, 'never', '--width', '400',
                                             '--height', '300', '--tile-size', '0'))
    assert code == 2 and ('use a smaller --width/--height, --tile-size (tiles) or --optimizer '
                          "adam (L-BFGS's state alone takes") in err
    monkeypatch.setattr(costs, 'available_memory', lambda: 2**20)
    code, _, err = paint(capsys, *_run_flags(tmp_path, synthetic_files, 'none'))
    assert code == 2 and ("on 128-pixel tiles and 0.0 GiB is available; use a smaller "
                          "--width/--height or --optimizer adam (L-BFGS's state alone takes") in err
    code, _, err = paint(capsys, *_run_flags(tmp_path, synthetic_files, 'none', '--optimizer',
                                             'adam', '--tile-size', '512'))
    assert code == 2 and err.strip().endswith('use a smaller --width/--height or a smaller '
                                              '--tile-size')


def test_the_memory_estimate_counts_the_crops_the_tiler_cuts(reference, monkeypatch):
    """Crops follow the image, not the tile and two halos square: 4000x3000 on 2048-pixel
    tiles is four crops of 2080x1592, a third fewer pixels than 2208x2208, and the memory
    check (which picks the largest tile that fits) counts those."""
    from art.engine import costs
    from art.app.job import Job
    from art.app.runner import plan_memory
    weights = art.synthetic_weights(16)
    monkeypatch.setattr(costs, 'available_memory', lambda: 2**50)
    job = Job(content=reference.content_path, style=reference.style_path, output='o.png',
              width=4000, height=3000, seed=1, iterations=1, tile_size=2048)
    needed, tiles = plan_memory(job, weights)
    assert tiles == {(3000, 4000): 2048} and crop_shape((3000, 4000), 2048, 80, 16) == (1592, 2080)
    history, form = job.lbfgs_history, cpu.engine_weight_form()
    assert needed == costs.estimate_tiled_memory(3000, 4000, (1592, 2080), weights.widths(),
                                                 'conv5_1', history, form)
    assert needed < costs.estimate_tiled_memory(3000, 4000, (2208, 2208), weights.widths(),
                                                'conv5_1', history, form)


def test_pixel_bounds_count_in_the_memory_estimate(reference):
    """scipy keeps a Python pair per value of per-pixel bounds for the whole run (6.7 GiB at
    4000x3000): the memory check counts them, at what they are measured to hold."""
    import tracemalloc
    import scipy.optimize
    from art.engine import costs
    from art.app.job import Job
    from art.app.runner import plan_memory
    weights = art.synthetic_weights(16)
    job = Job(content=reference.content_path, style=reference.style_path, output='o.png',
              width=400, height=300, seed=1, iterations=1, tile_size=0)
    plain = plan_memory(job, weights)[0]
    bounded = plan_memory(dataclasses.replace(job, pixel_bounds=True), weights)[0]
    assert bounded - plain == costs.bounds_bytes(300, 400) > 0
    values, held = 30000, {}
    for name, bounds in (('none', None),
                         ('bounds', scipy.optimize.Bounds(np.zeros(values), np.full(values, 255)))):
        def loss(x, name=name):
            held.setdefault(name, tracemalloc.get_traced_memory()[0])
            return float(np.sum((x - 50) ** 2))
        tracemalloc.start()
        try:
            scipy.optimize.minimize(loss, np.full(values, 100.0), jac=lambda x: 2 * (x - 50),
                                    method='L-BFGS-B', bounds=bounds, options={'maxiter': 1})
        finally:
            tracemalloc.stop()
    per_value = (held['bounds'] - held['none']) / values
    assert 0.5 < per_value / costs.BOUNDS_BYTES_PER_VALUE < 1.5, per_value


def test_adam_paints_on_tiles_with_the_untiled_losses(tmp_path, capsys, synthetic_files):
    """art.py's optimizer on the command line's tiles: the log's losses are the untiled
    graph's at each row's image, and the record keeps the tiling."""
    code, out, _ = paint(capsys, *_run_flags(tmp_path, synthetic_files, 'adam', '--tile-size',
                                             '40', '--optimizer', 'adam'))
    assert code == 0 and '250x240 on tiles: 4 crops' in out
    assert paint(capsys, *_run_flags(tmp_path, synthetic_files, 'whole', '--optimizer',
                                     'adam'))[0] == 0
    tiled, whole = (read_log(tmp_path / name)[1] for name in ('adam.csv', 'whole.csv'))
    assert tiled.shape == whole.shape == (5, 6)
    np.testing.assert_allclose(tiled[:, 3:], whole[:, 3:], rtol=1e-4)
    assert read_record(str(tmp_path / 'adam.json'))['environment']['tiling'][0]['tile'] == 48


def test_a_tiled_painting_switches_precision_like_an_untiled_one(network, monkeypatch):
    """The float32 finish of a bfloat16 painting works on tiles: two float32 sessions stand in
    for the two precisions, and the bulk runs its full share (no noise check or patience
    rule, whose evaluation counts follow the CPU's rounding); a tiled painting has no
    'mixed' phase."""
    from art.engine import optimizers
    from art.engine.painting import session_config
    monkeypatch.setattr(optimizers, 'SWITCH_POLICY', optimizers.SwitchPolicy(
        bulk_patience=None, noise_window=10**6))
    configs = {'bfloat16': session_config(), 'float32': session_config()}
    content, style, start = pictures(80, 64, count=3, seed=11)
    with TiledPainting(network, content, style, 32, configs=configs) as tiled:
        assert tiled.phases == ('bfloat16', 'float32')
        tiled_run = list(optimizers.optimize(tiled, start, 6))
        assert tiled.precision == 'float32'
    assert [it.precision for it in tiled_run] == ['bfloat16'] * 6 + ['float32']
    assert [it.iteration for it in tiled_run] == list(range(7))
    with Painting(network, content, style) as untiled:
        assert_untiled_losses(tiled_run, untiled)


FRESHLY_IMPORTED = """
import numpy as np
import art.engine.tf1
np.ones(8 * 2**20, np.uint8).sum()  # an 8 MB block, freed: it would raise the threshold
buffers = [np.ones(2 * 2**20, np.uint8) for _ in range(4)]
print([buffer.ctypes.data % 4096 for buffer in buffers])
"""


def test_freed_layer_buffers_go_back_to_the_system():
    """art.engine.tf1 fixes glibc's mmap threshold at 1 MB: after a large block is freed (which
    would raise a dynamic threshold to its size), 2 MB buffers are still mapped each on its
    own (a mapped block's data starts 16 bytes into a page), so freeing one returns it.
    In a fresh process: a long-lived one may serve them from free heap space, as it should."""
    if not hasattr(ctypes.CDLL(None), 'mallopt'):
        pytest.skip('not glibc: malloc keeps its own policy')
    done = subprocess.run([sys.executable, '-c', FRESHLY_IMPORTED], capture_output=True,
                          text=True, check=True)
    assert done.stdout.split('\n')[-2] == str([16] * 4), done.stdout


AFTER_A_PAINTING = """
import sys
import art.app.cli
import art.engine.costs
from art.engine.tf1 import tf, tf1

def resident():
    return art.engine.costs.proc_bytes('/proc/self/status', 'VmRSS')

if int(sys.argv[1]):  # the memory available, made small: tiles of the default's choice
    art.engine.costs.available_memory = lambda: int(sys.argv[1])
assert art.app.cli.main(sys.argv[2:]) == 0
with tf.Graph().as_default() as graph:
    row = tf1.placeholder(tf.float32, (1024,))
    copies = tf1.placeholder(tf.int32, (1,))
    total = tf.reduce_sum(tf.sqrt(tf.tile(row, copies) + 1.0))
    with tf1.Session(graph=graph) as session:
        session.run(total, {row: [0.0] * 1024, copies: [1]})
        before = resident()
        # 256 MB of intermediate buffers, freed when the run ends.
        session.run(total, {row: [1.0] * 1024, copies: [2**16]})
        print(resident() - before)
"""


@pytest.mark.parametrize('tiles, returned', [('asked', True), ('default', False),
                                              ('none', False)])
def test_asked_for_tiles_hand_freed_buffers_back(tmp_path, synthetic_files, tiles, returned):
    """--tile-size has TensorFlow use the system allocator, which hands a run's buffers back
    when it ends (the pool would keep the largest crop's beside L-BFGS-B's state);
    the default's tiles (the largest that fit: speed first) and untiled runs
    keep the faster pool. In a fresh process, as the choice is made before
    TensorFlow is imported: after the painting, a graph run with 256 MB of
    intermediates leaves the process no larger, or larger by them."""
    if not hasattr(ctypes.CDLL(None), 'mallopt'):
        pytest.skip('not glibc: freed blocks may stay with malloc')
    from art.engine import costs
    available = 0
    if tiles == 'default':
        available = costs.estimate_memory(300, 400, art.synthetic_weights(16).widths(),
                                          'conv5_1', 20) - 1
    flags = ('--tile-size', '128') if tiles == 'asked' else ()
    arguments = [str(flag) for flag in _run_flags(tmp_path, synthetic_files, 'run', *flags,
                                                  '--width', '400', '--height', '300',
                                                  '--iterations', '1')]
    # oneDNN on, whatever the suite was started with: its pool is what is compared.
    done = subprocess.run([sys.executable, '-c', AFTER_A_PAINTING, str(available)] + arguments,
                          capture_output=True, text=True, check=True,
                          env=dict(os.environ, TF_ENABLE_ONEDNN_OPTS='1'))
    assert ('400x300 on tiles' in done.stdout) == (tiles != 'none'), done.stdout
    assert ('system allocator' in done.stdout) == returned, done.stdout
    assert read_record(str(tmp_path / 'run.json'))['environment']['cpu']['allocator'] \
        == ('system' if returned else 'oneDNN pool')
    grown = int(done.stdout.split()[-1])
    assert (grown < 32 * 2**20) if returned else (grown > 200 * 2**20), done.stdout
