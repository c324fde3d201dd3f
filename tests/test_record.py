"""The record beside every painting; --replay and --verify; determinism on one machine."""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf

import art
import art.app.cli
from art.engine import cpu
from art.app.progress import curve_of
from art.app.record import read_record, trajectory, write_record
from helpers import ROOT, RUN_ART, one_line_error, paint, read_log, running


def sha256(path):
    return hashlib.sha256(open(path, 'rb').read()).hexdigest()


@pytest.fixture(scope='module')
def recorded(tmp_path_factory, synthetic_files, reference):
    """A small finished painting with its record, inputs copied into its own folder."""
    folder = tmp_path_factory.mktemp('recorded')
    shutil.copy(reference.content_path, folder / 'content.png')
    shutil.copy(reference.style_path, folder / 'style.png')
    shutil.copy(synthetic_files['old'], folder / 'vgg.mat')
    code = art.app.cli.main(['--content', str(folder / 'content.png'),
                         '--style', str(folder / 'style.png'), '--weights', str(folder / 'vgg.mat'),
                         '--width', '40', '--iterations', '4', '--checkpoint-every', '2',
                         '--seed', '3', '--loss-log', str(folder / 'log.csv'),
                         '--output', str(folder / 'out' / 'p.png')])
    assert code == 0
    return folder


@pytest.fixture
def copy(recorded, tmp_path):
    """The recorded painting in a folder of its own, with its record's paths moved there."""
    folder = tmp_path / 'copy'
    shutil.copytree(recorded, folder)
    path = folder / 'out' / 'p.json'
    record = json.loads(path.read_text())
    text = json.dumps(record).replace(str(recorded), str(folder))
    write_record(str(path), json.loads(text))
    return folder


def test_the_record_holds_job_inputs_weights_environment_outcome_and_losses(recorded):
    record = read_record(str(recorded / 'out' / 'p.json'))
    assert (record['format'], record['version']) == ('art-record', 1)
    job = record['job']
    assert (job['width'], job['height'], job['seed'], job['iterations']) == (40, 30, 3, 4)
    assert job['content_layers'] == [['conv4_2', 1.0]] and job['optimizer'] == 'lbfgs'
    assert art.Job.from_dict(job).output == str(recorded / 'out' / 'p.png')
    inputs = record['inputs']
    assert inputs['content'] == {'path': str(recorded / 'content.png'),
                                 'bytes': os.path.getsize(recorded / 'content.png'),
                                 'sha256': sha256(recorded / 'content.png')}
    assert inputs['style'][0]['sha256'] == sha256(recorded / 'style.png')
    weights = record['weights']
    assert weights['md5'] == hashlib.md5(open(recorded / 'vgg.mat', 'rb').read()).hexdigest()
    assert (weights['layout'], weights['kernel_layout'], weights['synthetic'],
            weights['published']) == ('old', 'as-stored', False, False)
    environment = record['environment']
    assert environment['art'] == art.__version__
    assert environment['tensorflow'] == tf.__version__
    assert environment['numpy'] == np.__version__
    assert environment['cpu']['model'] == cpu.cpuinfo()[0]
    assert environment['cpu']['onednn'] is cpu.onednn_enabled()
    assert environment['threads']['intra_op'] == len(os.sched_getaffinity(0))
    outcome = record['outcome']
    assert outcome['status'] == 'done' and outcome['reason'] is None
    assert outcome['iterations'] == 4 and outcome['image_sha256'] == sha256(recorded / 'out' / 'p.png')
    assert [c['iteration'] for c in record['checkpoints']] == [0, 2, 4]
    assert record['checkpoints'][1]['sha256'] == sha256(recorded / 'out' / 'p-2.png')
    assert [row[6] for row in record['trajectory']['rows']] == ['float32'] * 5
    rows = np.array([row[:6] for row in record['trajectory']['rows']])
    assert list(rows[:, 0]) == [0, 1, 2, 3, 4]
    _, logged = read_log(recorded / 'log.csv')
    np.testing.assert_allclose(rows[:, 3:], logged[:, 3:], rtol=1e-8)
    assert outcome['total_loss'] == rows[-1, 5]


def test_replay_paints_the_same_picture_bit_for_bit(copy, capsys):
    code, out, _ = paint(capsys, '--replay', copy / 'out' / 'p.json')
    assert code == 0, out
    assert (copy / 'out' / 'p-replay.png').read_bytes() == (copy / 'out' / 'p.png').read_bytes()
    original, again = (read_record(str(copy / 'out' / name)) for name in ('p.json', 'p-replay.json'))
    rows = [[row[:2] + row[3:] for row in r['trajectory']['rows']] for r in (original, again)]
    np.testing.assert_array_equal(rows[0], rows[1])
    # The recorded run's log is left alone; the replay's goes beside its image.
    assert (copy / 'out' / 'p-replay-log.csv').exists()
    assert read_log(copy / 'log.csv')[1].shape[0] == 5


def test_replay_of_adam_scales_and_two_styles_is_bit_for_bit(tmp_path, capsys, synthetic_files,
                                                              reference):
    output = tmp_path / 'a.png'
    code, out, _ = paint(capsys, '--weights', synthetic_files['new'], '--optimizer', 'adam',
                         '--scales', 0.5, 1, '--style', reference.style_path,
                         reference.content_path, '--style-blend-weights', 2, 1,
                         '--preserve-colors', '--tv-weight', 0.5, '--width', 32,
                         '--iterations', 3, '--output', output)
    assert code == 0, out
    code, out, _ = paint(capsys, '--replay', tmp_path / 'a.json', '--output', tmp_path / 'b.png')
    assert code == 0, out
    assert (tmp_path / 'b.png').read_bytes() == output.read_bytes()


def test_replay_finds_moved_inputs_and_refuses_changed_ones(copy, capsys):
    record = copy / 'out' / 'p.json'
    moved = copy / 'moved.png'
    os.rename(copy / 'content.png', moved)
    code, _, err = paint(capsys, '--replay', record)
    assert code == 2 and 'content.png: file not found; if it moved, give its new path with ' \
                         '--content' in err and len(err.strip().splitlines()) == 1
    code, _, err = paint(capsys, '--replay', record, '--content', moved, '--output',
                         copy / 'again.png')
    assert code == 0, err
    assert (copy / 'again.png').read_bytes() == (copy / 'out' / 'p.png').read_bytes()
    pixels = art.read_rgb(str(moved))
    pixels[0, 0] = 255 - pixels[0, 0]
    art.save_rgb(str(moved), pixels)
    code, _, err = paint(capsys, '--replay', record, '--content', moved)
    assert code == 2 and 'moved.png has changed: its SHA-256 is not the one in' in err


def test_replay_refuses_other_weights_and_settings(copy, capsys, synthetic_files):
    record = copy / 'out' / 'p.json'
    code, _, err = paint(capsys, '--replay', record, '--weights', synthetic_files['new'])
    assert code == 2 and 'not the recorded' in err and 'not the network the painting' in err
    code, _, err = paint(capsys, '--replay', record, '--width', 80)
    assert code == 2 and '--width cannot be changed with --replay: the record fixes it' in err
    code, _, err = paint(capsys, '--replay', record, '--verify', record)
    assert code == 2 and '--replay and --verify cannot be combined' in err


def test_verify_passes_and_prints_the_table(copy, capsys):
    code, out, _ = paint(capsys, '--verify', copy / 'out' / 'p.json')
    assert code == 0, out
    table = out[out.index('verify '):]
    for row in ('losses at iteration 0', 'losses at iteration 2', 'losses at iteration 4',
                'outcome', 'final losses', 'losses at every iteration',
                'iterations, evaluations'):
        assert row in table
    assert 'max 0 levels, PSNR inf dB' in table
    assert 'environment: the same as recorded' in table
    assert 'running on CPU %s, %d cores (' % (cpu.cpuinfo()[0], len(os.sched_getaffinity(0))) in out
    assert 'PASSED: 8 of 8 checks within limits' in table
    assert sorted(os.listdir(copy / 'out')) == sorted(
        ['p.png', 'p.json', 'p-0.png', 'p-2.png', 'p-4.png', 'p-sheet.png', 'p-losses.png'])


def test_verify_fails_outside_the_tolerances_and_obeys_the_flags(copy, capsys):
    path = copy / 'out' / 'p.json'
    record = read_record(str(path))
    record['checkpoints'][1]['style'] *= 1 + 1e-3
    record['environment']['tensorflow'] = '2.0.0'
    write_record(str(path), record)
    code, out, _ = paint(capsys, '--verify', path)
    assert code == 1
    assert 'losses at iteration 2' in out and 'FAILED' in out
    assert 'tensorflow: 2.0.0 -> %s' % tf.__version__ in out
    assert 'note: other kernels or threads round differently' in out
    code, out, _ = paint(capsys, '--verify', path, '--loss-tolerance', 2e-3)
    assert code == 0, out


def test_verify_measures_the_image_in_levels(copy, capsys):
    path = copy / 'out' / 'p.json'
    image = copy / 'out' / 'p.png'
    pixels = art.read_rgb(str(image)).astype(int)
    pixels[3, 4, 1] = pixels[3, 4, 1] + 3 if pixels[3, 4, 1] < 128 else pixels[3, 4, 1] - 3
    art.save_rgb(str(image), pixels.astype(np.uint8))
    record = read_record(str(path))
    record['outcome']['image_sha256'] = sha256(image)
    write_record(str(path), record)
    code, out, _ = paint(capsys, '--verify', path)
    assert code == 1 and 'max 3 levels' in out
    assert paint(capsys, '--verify', path, '--image-tolerance', 3)[0] == 0


@pytest.mark.parametrize('case,message', [
    ('missing', 'nope.json: file not found'),
    ('not-json', 'not a readable record'),
    ('not-a-record', 'not an art record'),
    ('newer', 'record format version 99; this art reads version 1'),
])
def test_a_bad_record_is_a_one_line_error(tmp_path, capsys, case, message):
    path = tmp_path / ('nope.json' if case == 'missing' else 'r.json')
    if case == 'not-json':
        path.write_text('{"format": ')
    elif case == 'not-a-record':
        path.write_text('[1, 2]')
    elif case == 'newer':
        path.write_text(json.dumps({'format': 'art-record', 'version': 99}))
    for mode in ('--verify', '--replay'):
        code, out, err = paint(capsys, mode, path)
        assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_verify_from_python(copy):
    report = art.verify(str(copy / 'out' / 'p.json'))
    assert isinstance(report, art.VerifyReport) and report.passed
    assert [check.what for check in report.checks][:3] == [
        'losses at iteration 0', 'losses at iteration 2', 'losses at iteration 4']
    assert report.environment == []


def test_the_loss_log_grows_row_by_row_and_survives_a_crash(tmp_path, synthetic_files):
    log = tmp_path / 'log.csv'
    with running([sys.executable, RUN_ART, '--weights', synthetic_files['old'], '--width', '32',
                  '--iterations', '100000', '--checkpoint-every', '0', '--loss-log', str(log)],
                 cwd=str(tmp_path), env=dict(os.environ, PYTHONPATH=str(ROOT)),
                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) as process:
        deadline = time.time() + 120
        rows = 0
        while rows < 6 and time.time() < deadline and process.poll() is None:
            time.sleep(0.05)
            rows = len(log.read_text().splitlines()) - 2 if log.exists() else 0
        assert rows >= 6 and process.poll() is None  # rows while the run goes, no checkpoint yet
        process.kill()
        process.wait()
    lines = log.read_text().splitlines()
    complete = [line for line in lines[2:] if line.endswith(',float32')]
    assert len(complete) >= len(lines) - 3
    iterations = [int(line.split(',')[0]) for line in complete]
    assert iterations == list(range(len(iterations)))
    record = read_record(str(tmp_path / 'output' / 'art.json'))
    assert record['outcome']['status'] == 'running'


def test_a_failed_run_records_why(tmp_path, capsys, synthetic_files):
    code, out, _ = paint(capsys, '--weights', synthetic_files['old'], '--width', 32,
                         '--optimizer', 'adam', '--learning-rate', '1e30', '--iterations', 5,
                         '--output', tmp_path / 'f.png')
    assert code == 1
    outcome = read_record(str(tmp_path / 'f.json'))['outcome']
    assert outcome['status'] == 'failed' and 'the total loss became inf' in outcome['reason']
    assert np.isfinite(outcome['total_loss'])


def test_verify_replays_an_interrupted_run_to_where_it_ended(copy, capsys):
    path = copy / 'out' / 'p.json'
    record = read_record(str(path))
    # As if the run had stopped after iteration 2: its image then was checkpoint 2.
    record['outcome'].update(status='interrupted', reason='interrupted (SIGINT)', iterations=2,
                             evaluations=record['trajectory']['rows'][2][1],
                             total_loss=record['trajectory']['rows'][2][5],
                             content_loss=record['trajectory']['rows'][2][3],
                             style_loss=record['trajectory']['rows'][2][4],
                             image_sha256=record['checkpoints'][1]['sha256'])
    record['checkpoints'] = record['checkpoints'][:2]
    record['trajectory']['rows'] = record['trajectory']['rows'][:3]
    shutil.copy(copy / 'out' / 'p-2.png', copy / 'out' / 'p.png')
    write_record(str(path), record)
    code, out, _ = paint(capsys, '--verify', path)
    assert code == 0, out
    assert 'PASSED' in out and 'stopped at iteration 2' in out


def test_one_line_errors_for_mode_misuse(tmp_path):
    result = subprocess.run([sys.executable, RUN_ART, '--loss-tolerance', '0.1'],
                            cwd=str(tmp_path), capture_output=True, text=True,
                            env=dict(os.environ, PYTHONPATH=str(ROOT)))
    one_line_error(result, '--loss-tolerance is used with --verify only')


def test_other_kernels_agree_on_the_first_evaluation_and_say_why_later_ones_drift(copy):
    """Replayed with oneDNN switched (off where the recording had it on, on where off) and
    on one core, the start's losses agree to 1e-6; the table names what differs. (How far
    L-BFGS then drifts is measured in docs/reproduce.md.)"""
    recorded = read_record(str(copy / 'out' / 'p.json'))['environment']['cpu']['onednn']
    script = ('import json, art; report = art.verify(%r); '
              'print(json.dumps([[c.what, c.error] for c in report.checks])); '
              'print("\\n".join(report.table()))' % str(copy / 'out' / 'p.json'))
    result = subprocess.run(
        [sys.executable, '-c', script], capture_output=True, text=True, cwd=str(copy),
        env=dict(os.environ, PYTHONPATH=str(ROOT), TF_ENABLE_ONEDNN_OPTS='0' if recorded else '1'),
        preexec_fn=lambda: os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}), timeout=300)
    assert result.returncode == 0, result.stderr
    checks = dict(json.loads(result.stdout.splitlines()[0]))
    assert float(checks['losses at iteration 0']) <= 1e-6
    assert 'cpu.onednn: %s -> %s' % (recorded, not recorded) in result.stdout
    assert 'note: other kernels or threads round differently' in result.stdout


def test_the_device_line_names_the_gpu_or_the_cpu_and_its_kernels():
    from art.app.record import device_line
    environment = {'gpus': [], 'cpu': {'model': 'AMD EPYC', 'cores': 2, 'onednn': True,
                                       'instruction_sets': ['avx', 'avx2', 'fma'],
                                       'onednn_isa': 'avx2'},
                   'precision': {'bulk': 'float32', 'finish': 'float32', 'why': 'as asked'}}
    assert device_line(environment) == 'CPU AMD EPYC, 2 cores (AVX AVX2 FMA; oneDNN on, avx2 ' \
                                       'kernels); float32 (as asked)'
    environment['cpu']['allocator'] = 'system'
    assert 'oneDNN on, avx2 kernels, system allocator);' in device_line(environment)
    environment['precision'].update(bulk='bfloat16', why='auto: the CPU has AMX and oneDNN is on')
    assert device_line(environment).endswith('; bfloat16 (auto: the CPU has AMX and oneDNN is '
                                             'on), finishing in float32')
    environment['gpus'] = ['NVIDIA A100-SXM4-40GB']
    environment['cpu']['onednn'] = False
    assert device_line(environment).startswith('GPU NVIDIA A100-SXM4-40GB, beside CPU AMD EPYC')
    assert 'oneDNN off' in device_line(environment)


def test_replay_finds_a_moved_style_init_image_and_weights(tmp_path, capsys, synthetic_files,
                                                           reference):
    folder = tmp_path / 'made'
    folder.mkdir()
    for name, source in (('content.png', reference.content_path),
                         ('style.png', reference.style_path), ('init.png', reference.style_path),
                         ('vgg.mat', synthetic_files['new'])):
        shutil.copy(source, folder / name)
    code, out, _ = paint(capsys, '--content', folder / 'content.png', '--style',
                         folder / 'style.png', '--init', 'image', '--init-image',
                         folder / 'init.png', '--weights', folder / 'vgg.mat', '--width', 32,
                         '--iterations', 3, '--seed', 2, '--output', folder / 'p.png')
    assert code == 0, out
    moved = tmp_path / 'moved'
    moved.mkdir()
    for name in ('style.png', 'init.png', 'vgg.mat'):
        os.rename(folder / name, moved / ('new-' + name))
    record = folder / 'p.json'
    code, _, err = paint(capsys, '--replay', record, '--weights', moved / 'new-vgg.mat',
                         '--init-image', moved / 'new-init.png')
    assert code == 2 and 'style.png: file not found; if it moved, give its new path with ' \
                         '--style' in err, err
    code, _, err = paint(capsys, '--replay', record, '--weights', moved / 'new-vgg.mat',
                         '--style', moved / 'new-style.png')
    assert code == 2 and 'init.png: file not found; if it moved, give its new path with ' \
                         '--init-image' in err, err
    code, _, err = paint(capsys, '--replay', record, '--style', moved / 'new-style.png',
                         '--init-image', moved / 'new-init.png')
    # Not a published network: no download would bring it back, so none is tried.
    assert code == 2 and err.strip().splitlines() == [
        'run_art.py: error: weights file %s: file not found; if it moved, give its new path '
        'with --weights' % (folder / 'vgg.mat')], err
    code, _, err = paint(capsys, '--replay', record, '--style', moved / 'new-style.png',
                         '--init-image', moved / 'new-init.png', '--weights',
                         moved / 'new-vgg.mat', '--output', tmp_path / 'again.png')
    assert code == 0, err
    assert (tmp_path / 'again.png').read_bytes() == (folder / 'p.png').read_bytes()


@pytest.fixture
def failed_run(tmp_path, capsys, synthetic_files):
    """A record of a run whose loss overflowed after iteration 0 (Adam's step of 1e30)."""
    code, _, _ = paint(capsys, '--weights', synthetic_files['old'], '--width', 32,
                       '--optimizer', 'adam', '--learning-rate', '1e30', '--iterations', 5,
                       '--seed', 1, '--output', tmp_path / 'f.png')
    assert code == 1
    return tmp_path / 'f.json'


def test_verify_of_a_failed_run_replays_it_until_it_fails_the_same_way(failed_run, capsys):
    code, out, _ = paint(capsys, '--verify', failed_run)
    assert code == 0, out
    assert 'the total loss became inf after iteration 0' in out  # the replay itself failed
    [row] = [line for line in out.splitlines() if line.startswith('outcome ')]
    assert row.split() == ['outcome', 'failed', 'failed', 'equal', 'ok']
    assert 'PASSED' in out


def test_verify_fails_a_replay_that_does_not_end_as_recorded(failed_run, capsys):
    """A record that says failed where the replay fails otherwise (or not at all)."""
    record = read_record(str(failed_run))
    record['outcome']['reason'] = 'error: cannot write f-3.png: No space left on device'
    write_record(str(failed_run), record)
    code, out, _ = paint(capsys, '--verify', failed_run)
    assert code == 1
    [row] = [line for line in out.splitlines() if line.startswith('outcome ')]
    assert row.split()[-1] == 'FAILED'


def test_a_record_from_before_the_objective_setting_verifies_as_art_py(tmp_path, capsys,
                                                                      synthetic_files):
    """Records written before --objective hold no "objective": they painted art.py's
    objective, and --verify replays it; read as the relative one, the same record fails."""
    code, out, _ = paint(capsys, '--weights', synthetic_files['old'], '--width', 32,
                         '--iterations', 3, '--seed', 2, '--objective', 'art.py',
                         '--output', tmp_path / 'a.png')
    assert code == 0, out
    path = tmp_path / 'a.json'
    record = read_record(str(path))
    del record['job']['objective']
    write_record(str(path), record)
    code, out, _ = paint(capsys, '--verify', path)
    assert code == 0 and 'PASSED' in out, out
    record['job']['objective'] = 'relative'
    write_record(str(path), record)
    code, out, _ = paint(capsys, '--verify', path)
    assert code != 0 and 'FAILED' in out, out


def test_every_group_of_the_objective_is_logged_recorded_drawn_and_verified(tmp_path, capsys,
                                                                          synthetic_files):
    """Total variation's loss beside content and style: a column of the loss log and the
    trajectory, in each checkpoint, the outcome, the last line and the curve, and checked
    by --verify, which fails when only the recorded total variation is changed."""
    path = tmp_path / 'a.json'
    code, out, _ = paint(capsys, '--weights', synthetic_files['old'], '--width', 32,
                         '--iterations', 3, '--seed', 2, '--tv-weight', 0.5, '--checkpoint-every',
                         1, '--loss-log', tmp_path / 'log.csv', '--output', tmp_path / 'a.png')
    assert code == 0, out
    columns = 'iteration,evaluations,seconds,content,style,tv,total,precision'
    assert (tmp_path / 'log.csv').read_text().splitlines()[1] == columns
    record = read_record(str(path))
    assert record['trajectory']['columns'] == columns.split(',')
    rows = trajectory(record)
    for row in rows:  # the total is the groups' weighted sum: content 1, style 3, tv 0.5
        assert row['tv'] > 0
        np.testing.assert_allclose(row['total'], row['content'] + 3 * row['style']
                                   + 0.5 * row['tv'], rtol=1e-5)
    assert record['outcome']['tv_loss'] == rows[-1]['tv']
    assert [entry['tv'] for entry in record['checkpoints']] == [row['tv'] for row in rows]
    assert ', tv %.4g, total' % rows[-1]['tv'] in out
    assert list(curve_of(rows)[1]) == ['content', 'style', 'tv', 'total']
    code, out, _ = paint(capsys, '--verify', path)
    assert code == 0 and 'PASSED' in out, out
    record['checkpoints'][1]['tv'] *= 1.01
    write_record(str(path), record)
    code, out, _ = paint(capsys, '--verify', path)
    assert code == 1 and 'FAILED' in out, out


def test_a_painting_ended_by_min_progress_says_why_and_verifies(tmp_path, capsys,
                                                                  synthetic_files):
    path = tmp_path / 'a.json'
    code, out, _ = paint(capsys, '--weights', synthetic_files['old'], '--width', 32,
                         '--iterations', 400, '--seed', 2, '--min-progress', 0.05,
                         '--output', tmp_path / 'a.png')
    assert code == 0, out
    outcome = read_record(str(path))['outcome']
    assert outcome['status'] == 'done' and outcome['iterations'] < 400
    assert outcome['reason'] == ('done, the loss flat: down less than 0.05 of itself over the '
                                 'last 50 iterations')
    code, out, _ = paint(capsys, '--verify', path)
    assert code == 0 and 'PASSED' in out, out
