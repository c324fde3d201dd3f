"""Helpers the test modules share: running run_art.py and reading what it leaves, the
pictures and comparisons of the tiling tests, the generated clip. (Fixtures live in
conftest.py; no test module imports another.)"""
import contextlib
import hashlib
import io
import json
import os
import pathlib
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import art.app.cli
import art.app.record
from art.examples import moving_square

ROOT = pathlib.Path(__file__).resolve().parents[1]
RUN_ART = str(ROOT / 'run_art.py')
# The generated clip: (height, width), the square's side, its (dx, dy) per frame.
CLIP_SIZE, CLIP_SQUARE, CLIP_STEP = (96, 128), 32, (3, 2)
# The clip fixture's length and frame rate.
CLIP_FRAMES, CLIP_FPS = 6, 12


@contextlib.contextmanager
def running(command, **options):
    """subprocess.Popen(command, **options) for the block; the process, and with
    start_new_session its whole session (a batch's workers), is killed if the block
    leaves it running, a failing assertion included."""
    process = subprocess.Popen(command, **options)
    try:
        yield process
    finally:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                if options.get('start_new_session'):
                    os.killpg(process.pid, signal.SIGKILL)
                else:
                    process.kill()
        process.communicate()


def missing(reason):
    """Skip a test for want of something outside the project (a browser, PyPI), saying how to
    get it; where ART_NO_SKIP=1 (CI, which installs everything) fail instead."""
    if os.environ.get('ART_NO_SKIP') == '1':
        pytest.fail(reason + ' (ART_NO_SKIP=1: no test may skip)')
    pytest.skip(reason)


def run_art(*args, cwd, timeout=300, env=None):
    """run_art.py ARGS in a subprocess: the CompletedProcess, text output captured."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), **(env or {}))
    return subprocess.run([sys.executable, RUN_ART] + [str(a) for a in args], cwd=str(cwd),
                          capture_output=True, text=True, timeout=timeout, env=env)


def interrupt_run(tmp_path, weights, checkpoint, signum=signal.SIGINT, *argv):
    """Start a long run in `tmp_path`, send `signum` once checkpoint `checkpoint` is written;
    (exit code, stdout, stderr)."""
    with running([sys.executable, RUN_ART, '--weights', weights, '--width', '32',
                  '--iterations', '100000', '--checkpoint-every', '1'] + [str(a) for a in argv],
                 cwd=str(tmp_path), env=dict(os.environ, PYTHONPATH=str(ROOT)),
                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        deadline = time.time() + 120
        while not (tmp_path / 'output' / ('art-%d.png' % checkpoint)).exists() \
                and time.time() < deadline:
            time.sleep(0.1)
        process.send_signal(signum)
        stdout, stderr = process.communicate(timeout=120)
    return process.returncode, stdout, stderr


def run_here(*args, cwd):
    """What run_art returns, from art.app.cli.main run in this process in `cwd`: without a
    new interpreter's start-up (TensorFlow's import), for tests of what a run does rather
    than of the process it runs in."""
    out, err = io.StringIO(), io.StringIO()
    previous = os.getcwd()
    os.chdir(str(cwd))
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = art.app.cli.main([str(a) for a in args])
            except SystemExit as exit_:  # argparse's usage errors
                code = exit_.code
    finally:
        os.chdir(previous)
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


def paint(capsys, *argv):
    """art.app.cli.main in this process; (exit code, stdout, stderr)."""
    code = art.app.cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(result, *fragments, code=2):
    """The run failed with `code` and exactly one stderr line holding every fragment."""
    assert result.returncode == code, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert 'Traceback' not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def snapshot(folder):
    """Every file under `folder` with its bytes."""
    return {str(path.relative_to(folder)): path.read_bytes()
            for path in sorted(pathlib.Path(folder).rglob('*')) if path.is_file()}


def read_log(path):
    """(header line, rows as floats) of a --loss-log file, its columns checked."""
    lines = pathlib.Path(path).read_text().splitlines()
    assert lines[0].startswith('# art loss log; weights: ')
    assert lines[1] == ','.join(art.app.record.TRAJECTORY_COLUMNS)
    cells = [line.split(',') for line in lines[2:]]
    assert all(row[-1] in ('float32', 'bfloat16') for row in cells)
    return lines[0], np.array([[float(v) for v in row[:-1]] for row in cells])


def mat_payload(synthetic_files):
    data = pathlib.Path(synthetic_files['new']).read_bytes()
    return data, hashlib.md5(data).hexdigest()


def write_jobs(path, *lines):
    """A JOBS file of these lines (strings as written, the rest as JSON)."""
    path.write_text('\n'.join(line if isinstance(line, str) else json.dumps(line)
                              for line in lines) + '\n')
    return path


def pictures(height, width, count=1, seed=7):
    """`count` random images in network space."""
    rng = np.random.default_rng(seed)
    return [rng.uniform(-110, 130, (1, height, width, 3)).astype(np.float32)
            for _ in range(count)]


def relative(a, b):
    return abs(float(a) - float(b)) / abs(float(b))


def assert_cropped(tiled, size):
    """Crops smaller than the image along both axes, and along one at least three: the
    halo is really exercised, on both sides of some crops."""
    assert min(row[1] - row[0] for row in tiled.crops.rows) < size[0]
    assert min(column[1] - column[0] for column in tiled.crops.columns) < size[1]
    assert max(len(tiled.crops.rows), len(tiled.crops.columns)) >= 3


def assert_alike(tiled, untiled, gradient_tolerance=1e-5):
    """Losses to 1e-5; the gradient to `gradient_tolerance` in norm (art's own style terms
    on tiles hold 1e-4 on every CPU, test_tiling; a term alone 1e-5)."""
    for got, want in zip(tiled[:3], untiled[:3]):
        assert got == want == 0 or relative(got, want) <= 1e-5, (tiled[:3], untiled[:3])
    error = np.linalg.norm(tiled[3] - untiled[3]) / np.linalg.norm(untiled[3])
    assert error <= gradient_tolerance, error


def clip(frames=12):
    """The generated clip's frames, and each frame's square as (top, left)."""
    return moving_square(frames, CLIP_SIZE, CLIP_SQUARE, CLIP_STEP)


def clip_flags(clip_files, synthetic_files, content='clip.mp4'):
    """run_art.py flags that paint the clip fixture's clip small and short."""
    return ['--content', clip_files / content, '--style', clip_files / 'style.png',
            '--weights', synthetic_files['new'], '--width', 64, '--iterations', 8,
            '--frame-iterations', 4]


DOCUMENT_BLOCK = re.compile(r'```(python|text)\n(.*?)```', re.S)


def document_blocks(path):
    """(code, expected output or None) pairs of a Markdown document's python blocks, each
    with the text block that follows it, in the document's order."""
    found = DOCUMENT_BLOCK.findall(pathlib.Path(path).read_text())
    pairs = []
    for index, (kind, body) in enumerate(found):
        if kind == 'python':
            following = found[index + 1] if index + 1 < len(found) else None
            pairs.append((body, following[1] if following and following[0] == 'text' else None))
    return pairs


def run_document(path, namespace):
    """Run a document's python blocks in order in `namespace`, each printing the text block
    after it where there is one; the number of blocks."""
    pairs = document_blocks(path)
    for number, (code, expected) in enumerate(pairs, start=1):
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(compile(code, '%s block %d' % (pathlib.Path(path).name, number), 'exec'),  # noqa: S102
                 namespace)
        if expected is not None:
            assert printed.getvalue() == expected, 'block %d' % number
    return len(pairs)
