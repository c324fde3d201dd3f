"""run_art.py end to end, in a subprocess: paintings, every flag, bad input, signals, downloads."""
import hashlib
import os
import pathlib
import signal
import time

import imageio.v3 as iio
import numpy as np
import pytest
from PIL import Image

import art.app.cli
import art.constants
import art.network.download
import art.io.files
import art.io.images
import art.app.record
from art import examples
from helpers import (interrupt_run, mat_payload, one_line_error, read_log, run_art, run_here,
                     snapshot)
from http_server import FileServer

@pytest.fixture
def inputs(tmp_path, reference):
    """A folder with a content and a style image of other sizes and pixel formats."""
    folder = tmp_path / 'in'
    folder.mkdir()
    Image.open(reference.content_path).convert('L').resize((50, 40)).save(folder / 'content.jpg')
    Image.open(reference.style_path).convert('RGBA').save(folder / 'style.png')
    return folder


def test_default_run_paints_the_projects_example(tmp_path, synthetic_files):
    # CPU-only as on the machines the filter is for: a GPU host's device lines are its own.
    result = run_art('--weights', synthetic_files['old'], '--width', 40, '--iterations', 3,
                     cwd=tmp_path, env={'CUDA_VISIBLE_DEVICES': '-1'})
    assert result.returncode == 0, result.stderr
    assert examples.CONTENT in result.stdout and examples.STYLE in result.stdout
    assert 'not a published VGG-19 file' in result.stdout and 'not artistic' in result.stdout
    painted = iio.imread(tmp_path / 'output' / 'art.png')
    assert painted.shape == (30, 40, 3)  # the example is 400x300
    assert (tmp_path / 'output' / 'art-0.png').exists()
    assert result.stdout.strip().splitlines()[-1].startswith('done in ')
    # TensorFlow's start-up and GPU-probe lines (tensorflow on a CPU-only machine) are filtered.
    assert result.stderr.strip() == '', result.stderr


def test_every_flag_end_to_end(tmp_path, inputs, synthetic_files):
    before = snapshot(inputs)
    output = tmp_path / 'out' / 'deep' / 'painted.jpg'
    log = tmp_path / 'logs' / 'loss.csv'
    result = run_here('--content', inputs / 'content.jpg', '--style', inputs / 'style.png',
                     '--output', output, '--height', 24, '--iterations', 4,
                     '--optimizer', 'adam', '--learning-rate', 1.5, '--noise-ratio', 0.3,
                     '--content-weight', 2, '--style-weight', 50, '--pooling', 'max',
                     '--seed', 7, '--checkpoint-every', 2, '--loss-log', log, '--offline',
                     '--weights', synthetic_files['new'], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert iio.imread(output).shape == (24, 30, 3)  # width follows the 50x40 content
    for iteration in (0, 2, 4):
        assert (output.parent / ('painted-%d.jpg' % iteration)).exists()
    assert not (output.parent / 'painted-1.jpg').exists()
    header, rows = read_log(log)
    assert 'not artistic' in header
    assert list(rows[:, 0]) == [0, 1, 2, 3, 4]
    np.testing.assert_allclose(rows[:, 5], 2 * rows[:, 3] + 50 * rows[:, 4], rtol=1e-5)
    assert 'seed 7' in result.stdout and 'adam' in result.stdout
    assert snapshot(inputs) == before


def test_flags_reach_the_engine(tmp_path, monkeypatch, synthetic_files):
    """Each flag's value arrives where it acts (in-process, with a stand-in optimizer)."""
    seen = {}

    def fake_stylize(weights, content, style, iterations, initial_image, **options):
        seen.update(options, iterations=iterations, shape=content.shape, widths=weights.widths(),
                    styles=len(style))
        seen['start'] = initial_image
        from art.engine.optimizers import Iterate
        yield Iterate(0, 1, 1.0, 2.0, 3.0, content)

    monkeypatch.setattr('art.engine.stylize.stylize', fake_stylize)
    monkeypatch.chdir(tmp_path)
    code = art.app.cli.main(['--weights', synthetic_files['old'], '--width', '20', '--height', '10',
                         '--optimizer', 'adam', '--learning-rate', '0.5', '--noise-ratio', '0.25',
                         '--content-weight', '3', '--style-weight', '7', '--pooling', 'max',
                         '--seed', '11', '--pixel-bounds', '--checkpoint-every', '0',
                         '--min-progress', '0.01'])
    assert code == 0
    start = seen.pop('start')
    # The optimizer's own settings (art.app.settings, Setting.reaches) arrive as they are.
    options = seen.pop('optimizer_options')
    assert options['pixel_bounds'] is True
    assert options['lbfgs_history'] == art.constants.LBFGS_HISTORY
    assert list(seen.pop('configs')) == ['float32']
    assert seen.pop('min_progress') == 0.01
    assert seen == dict(optimizer='adam', learning_rate=0.5, content_weight=3, style_weight=7,
                        pooling='max', iterations=art.ITERATIONS, tile=None,
                        shape=(1, 10, 20, 3), widths={1: 4, 2: 8, 3: 16, 4: 32, 5: 32}, styles=1,
                        content_layers=(('conv4_2', 1.0),), style_layers=art.STYLE_LAYERS,
                        style_blend_weights=(1.0,), tv_weight=0.0, style_loss='gram',
                        normalize_gradients=False, normalization='relative')
    content = art.load_image(examples.CONTENT, 10, 20)
    np.testing.assert_array_equal(start, art.generate_noise_image(content, 0.25, seed=11))
    seen.clear()
    assert art.app.cli.main(['--weights', synthetic_files['old'], '--width', '20',
                         '--checkpoint-every', '0', '--lbfgs-history', '7']) == 0
    assert seen['iterations'] == art.constants.LBFGS_ITERATIONS and seen['optimizer'] == 'lbfgs'
    assert seen['optimizer_options']['lbfgs_history'] == 7
    assert seen['shape'] == (1, 15, 20, 3)


def test_synthetic_weights_are_named_as_such(tmp_path):
    log = tmp_path / 'log.csv'
    result = run_here('--weights', 'synthetic', '--width', 32, '--iterations', 2,
                     '--checkpoint-every', 0, '--loss-log', log, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert 'synthetic VGG-19 with random weights' in result.stdout
    assert 'not an artistic style' in read_log(log)[0]


@pytest.mark.parametrize('case', ['missing', 'folder', 'not-an-image'])
def test_bad_content_or_style(tmp_path, inputs, synthetic_files, case):
    bad = {'missing': tmp_path / 'nope.png', 'folder': inputs,
           'not-an-image': tmp_path / 'notes.png'}[case]
    if case == 'not-an-image':
        bad.write_text('these are notes, not pixels')
    before = snapshot(tmp_path)
    for flag in ('--content', '--style'):
        result = run_here(flag, bad, '--weights', synthetic_files['old'], cwd=tmp_path)
        one_line_error(result, str(bad))
    assert snapshot(tmp_path) == before


def corrupt_weights(tmp_path, synthetic_files, case):
    path = tmp_path / ('%s.mat' % case)
    data = pathlib.Path(synthetic_files['old']).read_bytes()
    if case == 'truncated':
        path.write_bytes(data[:len(data) // 3])
    elif case == 'corrupt':
        path.write_bytes(data[:200] + os.urandom(len(data) - 200))
    elif case == 'wrong-network':
        import scipy.io
        mat = scipy.io.loadmat(synthetic_files['old'])
        scipy.io.savemat(str(path), {'layers': mat['layers'][:, :20],
                                     'normalization': mat['normalization']})
    elif case == 'wrong-layout':
        import scipy.io
        scipy.io.savemat(str(path), {'layers': scipy.io.loadmat(synthetic_files['old'])['layers']})
    return path


@pytest.mark.parametrize('case,message', [
    ('truncated', 'not a readable MATLAB .mat file'),
    ('corrupt', 'not a readable MATLAB .mat file'),
    ('wrong-network', 'not the VGG-19 network'),
    ('wrong-layout', 'unknown MatConvNet layout'),
])
def test_bad_weights_file(tmp_path, synthetic_files, case, message):
    path = corrupt_weights(tmp_path, synthetic_files, case)
    before = snapshot(tmp_path)
    result = run_here('--weights', path, '--width', 32, cwd=tmp_path)
    one_line_error(result, str(path), message)
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize('args,message', [
    (['--width', '0'], 'argument --width: 0 must be > 0'),
    (['--height', '-3'], 'argument --height: -3 must be > 0'),
    (['--iterations', '0'], 'argument --iterations: 0 must be > 0'),
    (['--width', 'wide'], "'wide' is not a int"),
    (['--noise-ratio', '1.5'], '1.5 must be >= 0 and <= 1'),
    (['--optimizer', 'sgd'], "invalid choice: 'sgd'"),
])
def test_bad_numbers_and_choices(tmp_path, args, message):
    one_line_error(run_here(*args, cwd=tmp_path), message)
    assert not (tmp_path / 'output').exists()


def test_size_beyond_the_machines_memory(tmp_path, synthetic_files):
    result = run_here('--weights', synthetic_files['old'], '--width', 40000, '--height', 30000,
                     cwd=tmp_path)
    one_line_error(result, '40000x30000 needs an estimated', 'GiB of memory', 'is available')


def test_output_equal_to_an_input(tmp_path, inputs, synthetic_files):
    before = snapshot(inputs)
    for target in (inputs / 'content.jpg', inputs / 'style.png'):
        result = run_here('--content', inputs / 'content.jpg', '--style', inputs / 'style.png',
                         '--output', target, '--weights', synthetic_files['old'], cwd=tmp_path)
        one_line_error(result, str(target), 'choose another path')
        result = run_here('--content', inputs / 'content.jpg', '--style', inputs / 'style.png',
                         '--loss-log', target, '--weights', synthetic_files['old'], cwd=tmp_path)
        one_line_error(result, 'loss log', 'choose another path')
    assert snapshot(inputs) == before


def test_unwritable_output(tmp_path, synthetic_files):
    blocker = tmp_path / 'a-file'
    blocker.write_text('keep me')
    result = run_here('--output', blocker / 'out.png', '--weights', synthetic_files['old'],
                     cwd=tmp_path)
    one_line_error(result, 'cannot write output', str(blocker / 'out.png'))
    result = run_here('--output', tmp_path / 'out.xyz', '--weights', synthetic_files['old'],
                     cwd=tmp_path)
    one_line_error(result, "cannot write images of type '.xyz'")
    assert blocker.read_text() == 'keep me'


def test_non_finite_loss_keeps_the_last_finite_image(tmp_path, synthetic_files):
    """Adam's first step of 1e30 overflows: the last finite iterate is the start, art.py's
    noise/content mix, and that is the image written."""
    log = tmp_path / 'log.csv'
    result = run_here('--weights', synthetic_files['old'], '--width', 32, '--optimizer', 'adam',
                     '--learning-rate', '1e30', '--iterations', 5, '--checkpoint-every', 0,
                     '--seed', 4, '--loss-log', log, cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert 'the total loss became inf after iteration 0; kept the last finite image' \
        in result.stdout
    _, rows = read_log(log)
    assert np.all(np.isfinite(rows)) and list(rows[:, 0]) == [0]
    content = art.io.images.preprocess(art.io.files.read_rgb(examples.CONTENT), 24, 32)
    start = art.io.images.to_pixels(art.io.images.generate_noise_image(content, 0.6, seed=4))
    np.testing.assert_array_equal(iio.imread(tmp_path / 'output' / 'art.png'), start)


def slow_step(seconds_on_zen4=3):
    """A run of a session on a chain of convolutions of a fed picture (one uninterruptible
    C call, as a print size's evaluation is), about `seconds_on_zen4` on a Zen 4's 2 cores."""
    from art.engine.tf1 import tf, tf1  # pylint: disable=import-outside-toplevel
    with tf.Graph().as_default() as graph:
        picture = tf1.placeholder(tf.float32, (1, 300, 400, 64))
        feature = picture
        for _ in range(12 * seconds_on_zen4):
            feature = tf.nn.conv2d(feature, tf.fill((3, 3, 64, 64), 0.01), 1, 'SAME')
        total = tf.reduce_sum(feature)
    session = tf1.Session(graph=graph)
    fed = {picture: np.ones((1, 300, 400, 64), np.float32)}
    return lambda: tf1.Session.run(session, total, fed)


@pytest.mark.parametrize('optimizer', ['lbfgs', 'adam'])
def test_a_stop_during_a_slow_evaluation_ends_at_once_with_the_image_before_it(
        tmp_path, synthetic_files, monkeypatch, capsys, optimizer):
    """SIGTERM while TensorFlow computes an evaluation: the run ends without waiting for it,
    with the last painted iterate saved and recorded."""
    from art.engine import stops  # pylint: disable=import-outside-toplevel
    from art.engine.tf1 import tf1  # pylint: disable=import-outside-toplevel
    checkpoint, slow, real_run, stopped = tmp_path / 'art-2.png', slow_step(), tf1.Session.run, []

    def slow_once_checkpoint_2_is_written(session, *args, **kwargs):
        if checkpoint.exists() and not stopped:
            stopped.append(time.time())
            os.kill(os.getpid(), signal.SIGTERM)  # arrives while the step runs
            slow()
        return real_run(session, *args, **kwargs)
    monkeypatch.setattr(tf1.Session, 'run', slow_once_checkpoint_2_is_written)
    code = art.app.cli.main([str(a) for a in (
        '--weights', synthetic_files['old'], '--width', 32, '--iterations', 1000,
        '--optimizer', optimizer, '--checkpoint-every', 1, '--output', tmp_path / 'art.png')])
    ended, still_running = time.time(), stops.running()
    while stops.running():  # the next test's steps would queue behind it
        time.sleep(0.05)
    assert code == 143, capsys.readouterr().err
    assert still_running and ended - stopped[0] < 2
    np.testing.assert_array_equal(iio.imread(tmp_path / 'art.png'), iio.imread(checkpoint))
    record = art.app.record.read_record(str(tmp_path / 'art.json'))
    assert (record['outcome']['status'], record['outcome']['iterations']) == ('interrupted', 2)


@pytest.mark.parametrize('signum,code', [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_saves_the_image_the_log_and_the_record(tmp_path, synthetic_files, signum, code):
    log = tmp_path / 'log.csv'
    returncode, stdout, stderr = interrupt_run(tmp_path, synthetic_files['old'], 2, signum,
                                               '--loss-log', log)
    assert returncode == code, stderr
    name = signal.Signals(signum).name
    assert 'interrupted (%s)' % name in stdout
    assert iio.imread(tmp_path / 'output' / 'art.png').shape == (24, 32, 3)
    _, rows = read_log(log)
    assert rows.shape[0] >= 3 and rows[-1, 0] >= 2
    leftovers = [p.name for p in (tmp_path / 'output').iterdir() if 'partial' in p.name]
    assert not leftovers
    record = art.app.record.read_record(str(tmp_path / 'output' / 'art.json'))
    assert record['outcome']['status'] == 'interrupted'
    assert record['outcome']['reason'] == 'interrupted (%s)' % name
    assert record['outcome']['iterations'] >= 2
    assert record['outcome']['image_sha256'] == hashlib.sha256(
        (tmp_path / 'output' / 'art.png').read_bytes()).hexdigest()
    assert len(record['trajectory']['rows']) == record['outcome']['iterations'] + 1


def test_download_resumes_after_a_cut_connection(tmp_path, synthetic_files):
    payload, md5 = mat_payload(synthetic_files)
    target = tmp_path / 'weights' / 'vgg.mat'
    with FileServer(payload, cut_after=len(payload) // 3) as server:
        result = run_here('--weights', target, '--weights-url', server.url, '--weights-md5', md5,
                         '--width', 32, '--iterations', 1, '--checkpoint-every', 0,
                         cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert target.read_bytes() == payload
    assert [r for _, r in server.requests] == [None, 'bytes=%d-' % (len(payload) // 3)]
    assert os.listdir(target.parent) == ['vgg.mat']


def test_download_with_a_wrong_md5_is_rejected(tmp_path, synthetic_files):
    payload, _ = mat_payload(synthetic_files)
    target = tmp_path / 'weights' / 'vgg.mat'
    with FileServer(payload) as server:
        result = run_here('--weights', target, '--weights-url', server.url, cwd=tmp_path)
    one_line_error(result, 'MD5 %s is not that of a known VGG-19 file' % hashlib.md5(payload).hexdigest(),
                   '--weights vgg19-8bit', 'or synthetic')
    assert os.listdir(target.parent) == []
