"""Batches and sweeps: JOBS validated before painting, jobs in fresh workers or on a real Ray
cluster, resumable, with summary.json and grid.png."""
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np
import pytest

import art.app.cli
from art.app import batch, grid
from art.app.jobs_file import BATCH_SEED, read_batch
from art.engine import cpu
from art import examples
from art.io import files, video
from art.examples import moving_square
from art.app.record import read_record
from helpers import RUN_ART, paint, running, write_jobs
from ray_cluster import free_port, local_cluster


def defaults(*argv):
    return art.app.cli.job_settings(art.app.cli.build_parser().parse_args([str(a) for a in argv]))


def test_lines_sweep_products_with_readable_names_and_the_flags_as_defaults(tmp_path):
    (tmp_path / 'pictures').mkdir()
    shutil.copy(examples.CONTENT, tmp_path / 'pictures' / 'photo.png')
    jobs_file = write_jobs(
        tmp_path / 'jobs.jsonl', '# a comment', '',
        {'name': 'ratio', 'content': 'pictures/photo.png', 'iterations': 7,
         'sweep': {'style_weight': [10, 1000.5], 'style_layers': [['conv1_1'],
                                                                   ['conv1_1', 'conv2_1']]}},
        {'pooling': 'max', 'seed': 9},
        {'name': 'photos', 'sweep': {'style': [['pictures/photo.png'], [examples.STYLE]]}})
    entries = read_batch(str(jobs_file), defaults('--width', 40, '--iterations', 3),
                               str(tmp_path / 'out'))
    assert [entry.name for entry in entries] == [
        'ratio-style_weight=10-style_layers=conv1_1',
        'ratio-style_weight=10-style_layers=conv1_1+conv2_1',
        'ratio-style_weight=1000.5-style_layers=conv1_1',
        'ratio-style_weight=1000.5-style_layers=conv1_1+conv2_1', 'job4',
        'photos-style=pictures_photo.png', 'photos-style=' + examples.STYLE.replace('/', '_')]
    first, last = entries[0].job, entries[4].job
    # The line's values win over the flags', the flags' over art.py's defaults.
    assert (first.width, first.iterations, last.iterations) == (40, 7, 3)
    assert first.content == str(tmp_path / 'pictures' / 'photo.png')  # beside the JOBS file
    assert [entry.job.style_weight for entry in entries[:4]] == [10, 10, 1000.5, 1000.5]
    assert entries[1].job.style_layers == (('conv1_1', 1.0), ('conv2_1', 1.0))
    assert (last.pooling, last.seed, first.seed) == ('max', 9, BATCH_SEED)
    assert first.output == str(tmp_path / 'out' / (entries[0].name + '.png'))
    assert first.loss_log == str(tmp_path / 'out' / (entries[0].name + '.csv'))
    # Swept paths too are relative to the JOBS file.
    assert entries[5].job.style == (str(tmp_path / 'pictures' / 'photo.png'),)
    assert entries[0].swept == (('style_weight', 10), ('style_layers', ['conv1_1']))


def test_figure3_lays_out_style_layers_down_and_ratios_across(tmp_path):
    entries = read_batch(examples.FIGURE3, defaults(), str(tmp_path))
    [block] = grid.blocks(entries)
    assert len(entries) == 20 and {entry.job.content_weight for entry in entries} == {1}
    assert block.columns == ['style_weight=%d' % w for w in (100000, 10000, 1000, 100)]
    assert block.rows[0] == 'style_layers=conv1_1'
    assert block.rows[-1] == 'style_layers=conv1_1+conv2_1+conv3_1+conv4_1+conv5_1'
    assert block.cells[4, 1].job.style_weight == 10000
    assert [name for name, _ in block.cells[4, 1].job.style_layers] == [
        'conv1_1', 'conv2_1', 'conv3_1', 'conv4_1', 'conv5_1']


def test_a_line_s_values_are_taken_as_values_not_as_command_line_text(tmp_path):
    """A line's values go to the Job as the flags' declarations take them, never through
    argv: a file name that starts with a dash is a file name, and JSON's true and false
    switch a flag on and off."""
    shutil.copy(examples.CONTENT, tmp_path / '-photo.png')
    jobs_file = write_jobs(tmp_path / 'jobs.jsonl',
                           {'content': '-photo.png', 'style': ['-photo.png'],
                            'preserve_colors': True, 'pixel_bounds': False})
    entry, = read_batch(str(jobs_file), defaults('--width', 40, '--pixel-bounds'),
                        str(tmp_path / 'out'))
    assert entry.job.content == entry.job.style[0] == str(tmp_path / '-photo.png')
    assert entry.job.preserve_colors is True
    assert entry.job.pixel_bounds is True  # false: not given on the line, the batch's flag


@pytest.mark.parametrize('lines, message', [
    (['{"style_weight": 10}', '{"style_weight": 10'], 'line 2: not JSON'),
    (['{"styleweight": 10}'], "line 1: unknown key 'styleweight'"),
    (['{"output": "x.png"}'], "line 1: unknown key 'output'"),
    (['{"sweep": {"style_weight": ["heavy"]}}'], "line 1: argument --style-weight"),
    (['{"sweep": {"style_weight": 10}}'], 'line 1: sweep style_weight must be a non-empty list'),
    (['{"sweep": {"iterations": [1.5]}}'], 'line 1: argument --iterations'),
    (['{"optimizer": "sgd"}'], "line 1: argument --optimizer: invalid choice: 'sgd'"),
    (['{"iterations": [3, 4]}'], 'line 1: argument --iterations: expected one value'),
    (['{"pixel_bounds": "yes"}'], 'line 1: argument --pixel-bounds: expected true or false'),
    (['{"name": "a"}', '{"name": "a"}'], "line 2: job a has the same output as line 1's"),
    (['{"name": "summary"}'], "line 1: the name summary is the batch's own summary.json"),
    (['{"name": "."}'], 'line 1: name must be a file name, not "."'),
    (['{"name": ".."}'], 'line 1: name must be a file name, not ".."'),
    (['{"name": "a/b"}'], 'line 1: name must be a file name, not "a/b"'),
    (['{"content": "missing.png"}'], 'line 1: '),
    (['{"style_layers": ["conv9_1"]}'], 'line 1: '),
    (['[1, 2]'], 'line 1: a line must be a JSON object'),
])
def test_bad_jobs_are_one_line_errors_naming_the_line_before_any_painting(
        tmp_path, capsys, lines, message):
    jobs_file = write_jobs(tmp_path / 'jobs.jsonl', *lines)
    code, out, err = paint(capsys, '--batch', jobs_file, '--out-dir', tmp_path / 'out',
                           '--weights', 'synthetic')
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
    assert not os.path.exists(tmp_path / 'out' / batch.SUMMARY)


@pytest.mark.parametrize('argv, message', [
    (['--batch', 'nowhere.jsonl', '--out-dir', 'o'], 'cannot read --batch nowhere.jsonl'),
    (['--batch', 'j.jsonl'], '--batch needs --out-dir DIR'),
    (['--out-dir', 'o'], '--out-dir is used with --batch only'),
    (['--ray', 'auto'], '--ray is used with --batch only'),
    (['--batch', 'j.jsonl', '--out-dir', 'o', '--output', 'x.png'], '--output cannot be given'),
])
def test_batch_flags_are_checked(tmp_path, capsys, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    code, _, err = paint(capsys, *argv)
    assert code == 2 and message in err, err


def loss_rows(path):
    """A loss log's rows without the seconds column."""
    with open(path) as handle:
        rows = [line.split(',') for line in handle.read().splitlines()[2:]]
    return [row[:2] + row[3:] for row in rows]


@pytest.fixture(scope='module')
def local_batch(tmp_path_factory, synthetic_files):
    """A batch of two swept jobs and one whose loss overflows, painted here."""
    folder = tmp_path_factory.mktemp('batch')
    jobs_file = write_jobs(folder / 'jobs.jsonl',
                           {'name': 'w', 'sweep': {'style_weight': [10, 1000]}},
                           {'name': 'overflow', 'style_weight': 1e38})
    argv = ['--batch', jobs_file, '--out-dir', folder / 'out', '--weights',
            synthetic_files['new'], '--width', 32, '--height', 24, '--iterations', 2]
    began = time.time()
    code = art.app.cli.main([str(a) for a in argv])
    return folder, argv, code, time.time() - began


def test_a_batch_paints_each_job_in_its_own_worker_and_goes_on_past_a_failure(local_batch):
    folder, _, code, _ = local_batch
    out = folder / 'out'
    assert code == 1  # one job failed
    summary = json.loads((out / batch.SUMMARY).read_text())
    status = {row['name']: (row['status'], row['reason']) for row in summary['jobs']}
    assert status['w-style_weight=10'][0] == status['w-style_weight=1000'][0] == 'done'
    assert status['overflow'] == ('failed', 'error: the total loss became inf at the start')
    assert summary['counts'] == {'done': 2, 'failed': 1}
    for name in ('w-style_weight=10', 'w-style_weight=1000'):
        for suffix in ('.png', '.json', '-sheet.png', '.csv', '.log'):
            assert (out / (name + suffix)).exists()
        assert read_record(str(out / (name + '.json')))['outcome']['status'] == 'done'
    row = next(row for row in summary['jobs'] if row['name'] == 'w-style_weight=1000')
    assert row['swept'] == {'style_weight': 1000} and row['iterations'] == 2
    assert row['total_loss'] == read_record(row['record'])['outcome']['total_loss']
    # A block for the sweep (two across), one for the job that sweeps nothing.
    drawn = files.read_rgb(str(out / batch.GRID))
    assert drawn.shape[1] > 2 * 160 and drawn.shape[0] > 2 * 160
    assert not (out / 'overflow.png').exists()  # it had no finite image


def rerun_in_copy(local_batch, tmp_path):
    """The batch's arguments and a copy of its folder to run them in: the tests that paint
    it again leave the module's batch as it was painted, whatever the order they run in."""
    folder, argv, _, _ = local_batch
    copy = tmp_path / 'batch'
    shutil.copytree(folder, copy)
    for record in (copy / 'out').glob('*.json'):  # their paths name the copy's files
        record.write_text(record.read_text().replace(str(folder), str(copy)))
    here = [str(a).replace(str(folder), str(copy)) for a in argv]
    return copy, here


def test_a_batch_run_again_skips_what_is_done(local_batch, capsys, tmp_path):
    copy, argv = rerun_in_copy(local_batch, tmp_path)
    done = {name: (copy / 'out' / name).read_bytes()
            for name in ('w-style_weight=10.json', 'w-style_weight=1000.png')}
    code, out, _ = paint(capsys, *argv)
    assert code == 1  # the failing job ran again, and failed again
    assert 'w-style_weight=10: skipped, done earlier' in out
    assert 'w-style_weight=1000: skipped, done earlier' in out
    assert 'overflow: failed' in out
    assert {name: (copy / 'out' / name).read_bytes() for name in done} == done
    summary = json.loads((copy / 'out' / batch.SUMMARY).read_text())
    assert summary['counts'] == {'skipped': 2, 'failed': 1}


def test_a_folder_of_records_is_painted_again(local_batch, tmp_path, capsys):
    folder, _, _, _ = local_batch
    records = tmp_path / 'records'
    records.mkdir()
    shutil.copy(folder / 'out' / 'w-style_weight=10.json', records / 'again.json')
    code, _, err = paint(capsys, '--batch', records, '--out-dir', tmp_path / 'out')
    assert code == 0, err
    assert loss_rows(tmp_path / 'out' / 'again.csv') \
        == loss_rows(folder / 'out' / 'w-style_weight=10.csv')


def test_a_changed_job_is_not_painted_over_an_earlier_result(local_batch, capsys, tmp_path):
    _, changed = rerun_in_copy(local_batch, tmp_path)
    changed[changed.index('--iterations') + 1] = '3'
    code, _, err = paint(capsys, *changed)
    assert code == 2 and 'holds a different job' in err


@pytest.fixture(scope='module')
def ray_cluster():
    """A real one-node Ray cluster on 127.0.0.1, stopped afterwards."""
    with local_cluster(cpus=2) as address:
        yield address


def test_a_batch_on_ray_gives_the_local_loss_logs(local_batch, ray_cluster, tmp_path):
    folder, argv, _, _ = local_batch
    here = [str(a) for a in argv]
    here[here.index('--out-dir') + 1] = str(tmp_path / 'ray')
    scratch = set(glob.glob(os.path.join(tempfile.gettempdir(), 'art-ray-*')))
    # The driver in a process of its own, as a user runs it: Ray's driver state stays
    # out of the test process.
    done = subprocess.run([sys.executable, RUN_ART] + here + ['--ray', ray_cluster],
                          capture_output=True, text=True, timeout=600)
    # The tasks' scratch folders (on this one-node cluster, here) are gone.
    assert set(glob.glob(os.path.join(tempfile.gettempdir(), 'art-ray-*'))) == scratch
    code, out, err = done.returncode, done.stdout, done.stderr
    assert code == 1, err  # the overflowing job fails there too
    assert 'on Ray at %s' % ray_cluster in out
    for name in ('w-style_weight=10', 'w-style_weight=1000'):
        assert loss_rows(tmp_path / 'ray' / (name + '.csv')) \
            == loss_rows(folder / 'out' / (name + '.csv'))
        record = read_record(str(tmp_path / 'ray' / (name + '.json')))
        # The record names the driver's files, not the worker's scratch folder.
        assert record['job']['output'] == str(tmp_path / 'ray' / (name + '.png'))
        assert record['checkpoints'][0]['path'].startswith(str(tmp_path / 'ray'))
        assert record['job']['content'] == examples.CONTENT
    summary = json.loads((tmp_path / 'ray' / batch.SUMMARY).read_text())
    assert summary['counts'] == {'done': 2, 'failed': 1}


def test_on_ray_a_job_asking_for_tiles_gets_a_worker_of_its_own(ray_cluster, tmp_path,
                                                                 synthetic_files):
    """Ray keeps a worker between tasks, and TensorFlow in it the allocator of the worker's
    first job: a job on --tile-size (the system allocator) has a worker that ends with it,
    so the untiled job after it paints with the pool, as it would here."""
    moving = str(tmp_path / 'moving.mp4')
    video.write_video(moving, [frame.astype(np.uint8) for frame in moving_square(3)[0]], 12)
    jobs_file = write_jobs(tmp_path / 'jobs.jsonl', {'name': 'tiled', 'tile_size': 32},
                           {'name': 'whole'}, {'name': 'tiled-again', 'tile_size': 32},
                           {'name': 'clip', 'content': moving})
    done = subprocess.run([sys.executable, RUN_ART, '--batch', str(jobs_file), '--out-dir',
                           str(tmp_path / 'out'), '--weights', synthetic_files['new'],
                           '--width', '64', '--height', '48', '--iterations', '1',
                           '--ray', ray_cluster], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    allocators = {name: read_record(str(tmp_path / 'out' / (name + '.json')))
                  ['environment']['cpu']['allocator']
                  for name in ('tiled', 'whole', 'tiled-again')}
    # Without oneDNN (TF_ENABLE_ONEDNN_OPTS=0 where the suite runs) there is no pool.
    pool = 'oneDNN pool' if cpu.onednn_enabled() else 'system'
    assert allocators == {'tiled': 'system', 'whole': pool, 'tiled-again': 'system'}
    # A clip is a task too: its video and record come back, naming the driver's files.
    assert video.probe(str(tmp_path / 'out' / 'clip.mp4')).frames == 3
    clip_record = read_record(str(tmp_path / 'out' / 'clip.json'))
    assert clip_record['job']['output'] == str(tmp_path / 'out' / 'clip.mp4')
    assert [frame['frame'] for frame in clip_record['frames']] == [1, 2, 3]


def test_a_ray_address_where_no_cluster_listens_is_a_one_line_error(tmp_path, capsys):
    jobs_file = write_jobs(tmp_path / 'jobs.jsonl', {'name': 'a'})
    code, _, err = paint(capsys, '--batch', jobs_file, '--out-dir', tmp_path / 'out',
                         '--weights', 'synthetic', '--ray', '127.0.0.1:%d' % free_port())
    assert code == 2 and 'cannot reach a Ray cluster at 127.0.0.1:' in err, err
    assert len(err.strip().splitlines()) == 1


def batch_until(tmp_path, synthetic_files, lines, painting, rows, act):
    """Start a batch of `lines` in a session of its own; once job `painting` has logged
    `rows` iterations, act(process). (exit code, stdout, stderr)."""
    jobs_file = write_jobs(tmp_path / 'jobs.jsonl', *lines)
    command = [sys.executable, RUN_ART, '--batch', str(jobs_file), '--out-dir',
               str(tmp_path / 'out'), '--weights', synthetic_files['new'], '--width', '32',
               '--height', '24', '--iterations', '2']
    log = tmp_path / 'out' / (painting + '.csv')
    with running(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                 start_new_session=True) as process:
        deadline = time.time() + 120
        while time.time() < deadline and not (
                log.exists() and len(log.read_text().splitlines()) >= 2 + rows):
            time.sleep(0.2)
        act(process)
        out, err = process.communicate(timeout=120)
    return process.returncode, out, err


@pytest.mark.parametrize('send, code', [
    (lambda process: os.killpg(process.pid, signal.SIGINT), 130),  # Ctrl-C at a terminal
    (lambda process: process.send_signal(signal.SIGINT), 130),     # to the batch alone
    (lambda process: process.send_signal(signal.SIGTERM), 143),    # kill, schedulers
], ids=['ctrl-c', 'sigint', 'sigterm'])
def test_a_stopped_batch_keeps_what_is_done_and_the_job_it_was_painting(
        tmp_path, synthetic_files, send, code):
    returncode, out, err = batch_until(
        tmp_path, synthetic_files, [{'name': 'quick', 'iterations': 1},
                                    {'name': 'long', 'iterations': 100000}, {'name': 'never'}],
        'long', 4, send)
    assert returncode == code, err
    assert 'nothing written' not in err and 'Traceback' not in err, err
    summary = json.loads((tmp_path / 'out' / batch.SUMMARY).read_text())
    status = {row['name']: row['status'] for row in summary['jobs']}
    assert status == {'quick': 'done', 'long': 'interrupted', 'never': 'not started'}, out
    assert (tmp_path / 'out' / 'quick.png').exists()
    # The job stopped mid-painting kept its image and a record of where it stopped.
    record = read_record(str(tmp_path / 'out' / 'long.json'))
    assert record['outcome']['status'] == 'interrupted'
    assert record['outcome']['iterations'] >= 3  # rows 0..3 were logged before the signal
    assert record['outcome']['reason'].startswith('interrupted (SIG')
    assert files.read_rgb(str(tmp_path / 'out' / 'long.png')).shape == (24, 32, 3)
    assert 'batch interrupted' in out


def worker_pids(pid):
    """The batch workers process `pid` started, from /proc (not multiprocessing's
    resource tracker)."""
    with open('/proc/%d/task/%d/children' % (pid, pid)) as handle:
        children = [int(child) for child in handle.read().split()]
    workers = []
    for child in children:
        with open('/proc/%d/cmdline' % child, 'rb') as handle:
            if b'spawn_main' in handle.read():
                workers.append(child)
    return workers


def test_a_crashed_worker_fails_its_job_only(tmp_path, synthetic_files):
    """A worker killed outright (as the kernel's out-of-memory killer does) fails its job;
    the batch goes on with the next."""
    def kill_the_worker(process):
        [worker] = worker_pids(process.pid)
        os.kill(worker, signal.SIGKILL)

    returncode, out, err = batch_until(
        tmp_path, synthetic_files, [{'name': 'crash', 'iterations': 100000}, {'name': 'after'}],
        'crash', 2, kill_the_worker)
    assert returncode == 1, err  # a job failed
    summary = json.loads((tmp_path / 'out' / batch.SUMMARY).read_text())
    rows = {row['name']: row for row in summary['jobs']}
    assert rows['crash']['status'] == 'failed'
    assert rows['crash']['reason'] == 'worker lost (exit code -9)'
    assert rows['after']['status'] == 'done'
    assert read_record(str(tmp_path / 'out' / 'after.json'))['outcome']['status'] == 'done'
