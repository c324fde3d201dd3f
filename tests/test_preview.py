"""Issue 27: `--preview` serves a live page of a painting, a batch or a clip. The page is
opened in headless Chromium (Debian's chromium, driven by Playwright) while a real run
paints; without the run's token every route answers 403 and the run goes on untouched."""
import io
import json
import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import sync_playwright

from art import examples
from art.app import preview
from art.app.board import Board
from art.app.clip_run import ClipProgress
from art.app.job import Job
from art.engine.optimizers import Iterate
from art.io import files, images
from art.app.record import read_record
from helpers import (RUN_ART, ROOT, clip_flags, missing, one_line_error, run_art, run_here,
                     running, write_jobs)

CHROMIUM = os.environ.get('ART_CHROMIUM') or shutil.which('chromium') or shutil.which(
    'chromium-browser')
# As root, in a closed network: no sandbox, and none of Chromium's own connections.
CHROMIUM_FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                  '--disable-background-networking', '--disable-component-update',
                  '--disable-sync']
URL_LINE = re.compile(r'^preview: (http://\S+/\?token=(\S+))$')


class Watched:
    """A run_art.py run with --preview on a free loopback port: its stdout lines as they
    come, and the page's address once it is printed."""

    def __init__(self, process):
        self.process, self.lines = process, []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        line = self.wait_for(lambda line: URL_LINE.match(line))
        self.url, self.token = URL_LINE.match(line).groups()
        self.base = self.url.split('?')[0]

    def _read(self):
        for line in self.process.stdout:
            self.lines.append(line.rstrip('\n'))

    def wait_for(self, found, timeout=120):
        """The first stdout line for which found(line) is true."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            for line in list(self.lines):
                if found(line):
                    return line
            assert self.process.poll() is None or self.reader.is_alive(), self.lines
            time.sleep(0.05)
        raise AssertionError('not printed in %d s: %s' % (timeout, self.lines))

    def finish(self, timeout=120):
        """(exit code, stderr) once the run ends."""
        code = self.process.wait(timeout)
        self.reader.join(10)
        return code, self.process.stderr.read()


def watch(tmp_path, *argv):
    """A context manager: run_art.py with `argv` and --preview in `tmp_path`, as Watched."""
    class Context:
        def __enter__(self):
            self.running = running(
                [sys.executable, RUN_ART, '--preview', '127.0.0.1:0'] + [str(a) for a in argv],
                cwd=str(tmp_path), env=dict(os.environ, PYTHONPATH=str(ROOT)),
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            return Watched(self.running.__enter__())

        def __exit__(self, *exc):
            return self.running.__exit__(*exc)
    return Context()


def long_painting(synthetic_files):
    return ['--weights', synthetic_files['old'], '--width', 160, '--iterations', 100000,
            '--checkpoint-every', 0]


@pytest.fixture(scope='module')
def browser():
    """Headless Chromium; without one, the browser tests skip (or fail: helpers.missing)."""
    if not CHROMIUM:
        missing('the browser tests need Chromium: apt-get install chromium '
                '(or ART_CHROMIUM=/path/to/chrome)')
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


def status_of(url, method='GET', headers=None):
    """The HTTP status of a request to `url`."""
    request = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


def iteration_shown(page):
    """The iteration the page shows, as a number (-1 before the first)."""
    shown = page.inner_text('#iteration').split(' ')[0]
    return int(shown) if shown.isdigit() else -1


def test_the_page_shows_the_painting_grow_saves_and_stops_it(tmp_path, synthetic_files, browser):
    with watch(tmp_path, *long_painting(synthetic_files), '--tv-weight', 0.1) as run:
        page = browser.new_page(viewport={'width': 1240, 'height': 900})
        page.goto(run.url)
        page.wait_for_function("Number(document.querySelector('#painting').dataset.version) > 0")
        first_image = page.get_attribute('#painting', 'data-version')
        first = iteration_shown(page)
        page.wait_for_function(
            "(v) => document.querySelector('#painting').dataset.version !== v", arg=first_image)
        page.wait_for_function("(i) => parseInt(document.querySelector('#iteration')"
                               ".textContent) > i + 2", arg=first)
        assert int(page.get_attribute('#curve', 'data-points')) > 3
        # A line for each group of the objective, total variation's too.
        assert page.get_attribute('#curve', 'data-lines') == 'content style tv total'
        assert 'of 100000' in page.inner_text('#iteration')
        assert page.inner_text('#precision') in ('float32', 'bfloat16')
        assert page.inner_text('#tiles') == 'untiled'
        assert page.inner_text('#per-evaluation').endswith(' s')
        # Random weights, said on the page.
        assert 'not a published VGG-19 file' in page.inner_text('#synthetic')
        page.click('#save')
        saved = run.wait_for(lambda line: line.endswith('(Save now, from the page)'))
        checkpoint = pathlib.Path(re.search(r'-> (\S+) \(Save now', saved).group(1))
        assert checkpoint.exists() and checkpoint.parent == tmp_path / 'output'
        shot = tmp_path / 'preview.png'
        page.screenshot(path=str(shot), full_page=True)
        if os.environ.get('ART_SCREENSHOT'):  # docs/live-page.md's figure
            shutil.copy(shot, os.environ['ART_SCREENSHOT'])
        page.click('#stop')
        code, stderr = run.finish()
        assert code == 130, stderr
        page.wait_for_selector('#downloads a', timeout=10000)
        assert page.get_attribute('#status', 'data-status') == 'interrupted'
        assert sorted(page.locator('#downloads a').all_inner_texts()) == [
            'download art-losses.png', 'download art-sheet.png', 'download art.json',
            'download art.png']
    record = read_record(str(tmp_path / 'output' / 'art.json'))
    assert record['outcome']['status'] == 'interrupted'
    assert record['outcome']['reason'] == 'interrupted (SIGINT)'
    assert str(checkpoint) in [entry['path'] for entry in record['checkpoints']]
    assert (tmp_path / 'output' / 'art.png').exists()


def test_without_the_token_everything_is_refused_and_the_run_goes_on(tmp_path, synthetic_files):
    with watch(tmp_path, *long_painting(synthetic_files)) as run:
        run.wait_for(lambda line: line.startswith('running on'))
        for token in ('', '?token=', '?token=' + run.token[:-1] + 'x'):
            for route in ('', 'image', 'events', 'page.js', 'download/art.json'):
                assert status_of(run.base + route + token) == 403, route + token
            for route in ('stop', 'save'):
                assert status_of(run.base + route + token, 'POST') == 403
                assert status_of(run.base + route, 'POST', {'X-Art-Token': token[7:]}) == 403
        # The token in the query does not work the buttons: a form on another site could
        # put it there, were it known, but cannot set a header.
        assert status_of(run.base + 'stop?token=' + run.token, 'POST') == 403
        time.sleep(2)
        assert run.process.poll() is None
        assert status_of(run.base + 'image?token=' + run.token) == 200
        assert not [line for line in run.lines if 'Save now' in line]
        run.process.send_signal(signal.SIGINT)
        code, stderr = run.finish()
    assert code == 130 and stderr == ''
    record = read_record(str(tmp_path / 'output' / 'art.json'))
    assert record['outcome']['iterations'] > 0 and record['checkpoints'] == []


def checkpoints(out_dir, name):
    """The checkpoints NAME-<iteration>.png in OUT_DIR (not NAME-sheet.png or NAME-losses.png)."""
    return [path for path in out_dir.glob(name + '-*.png')
            if re.fullmatch(re.escape(name) + r'-\d+\.png', path.name)]


def test_a_batch_page_shows_each_job_saves_and_stops_the_one_painting(tmp_path, synthetic_files,
                                                                      browser):
    jobs = write_jobs(tmp_path / 'jobs.jsonl', {'name': 'a'},
                      {'name': 'b', 'iterations': 100000}, {'name': 'c'})
    with watch(tmp_path, '--batch', jobs, '--out-dir', tmp_path / 'out', '--weights',
               synthetic_files['new'], '--width', 32, '--iterations', 20,
               '--checkpoint-every', 0) as run:
        page = browser.new_page()
        page.goto(run.url)
        page.wait_for_selector('.job[data-name="c"][data-status="queued"]')
        page.wait_for_selector('.job[data-name="b"][data-status="running"]', timeout=120000)
        assert page.get_attribute('.job[data-name="a"]', 'data-status') == 'done'
        page.wait_for_function("document.querySelector('.job[data-name=\"a\"] img')"
                               ".naturalWidth > 0")
        # b's painting, relayed from its worker process.
        page.wait_for_function("document.querySelector('#title').textContent.startsWith('b: ') && "
                               "parseInt(document.querySelector('#iteration').textContent) > 2",
                               timeout=120000)
        page.click('#save')
        deadline = time.time() + 60
        while not checkpoints(tmp_path / 'out', 'b') and time.time() < deadline:
            time.sleep(0.1)
        page.click('#stop')
        code, stderr = run.finish()
        assert code == 130, stderr
        page.wait_for_selector('#downloads a', timeout=10000)
        assert page.get_attribute('#status', 'data-status') == 'interrupted'
        assert [page.get_attribute('.job[data-name="%s"]' % name, 'data-status')
                for name in 'abc'] == ['done', 'interrupted', 'queued']
        assert sorted(page.locator('#downloads a').all_inner_texts()) == [
            'download grid.png', 'download summary.json']
    assert len(checkpoints(tmp_path / 'out', 'b')) == 1 and 'Save now' in (tmp_path / 'out' / 'b.log').read_text()
    assert read_record(str(tmp_path / 'out' / 'b.json'))['outcome']['status'] == 'interrupted'


def test_a_clip_page_counts_the_frames_and_saves_one(tmp_path, clip_files, synthetic_files,
                                                     browser):
    with watch(tmp_path, *clip_flags(clip_files, synthetic_files), '--frame-iterations', 40,
               '--output', 'out.mp4') as run:
        page = browser.new_page()
        page.goto(run.url)
        page.wait_for_function("/^[1-4] of 6 done$/.test(document.querySelector('#frames')"
                               ".textContent)", timeout=120000)
        page.click('#save')
        saved = run.wait_for(lambda line: line.endswith('(Save now, from the page)'))
        page.wait_for_selector('#downloads a', timeout=120000)
        code, stderr = run.finish()
        assert code == 0, stderr
        assert page.inner_text('#frames') == '6 of 6 done'
        # The last frame's curve has the temporal loss, which the first frame has not.
        assert page.get_attribute('#curve', 'data-lines') == 'content style temporal total'
        assert sorted(page.locator('#downloads a').all_inner_texts()) == [
            'download out.json', 'download out.mp4']
    path = re.search(r'frame (\d+), iteration \d+ -> (\S+) \(Save now', saved)
    listed = read_record(str(tmp_path / 'out.json'))['checkpoints']
    assert [(entry['frame'], entry['path']) for entry in listed] == [
        (int(path.group(1)), path.group(2))]
    assert listed[0]['sha256'] == files.file_sha256(tmp_path / path.group(2))


def test_a_clips_page_image_and_save_now_keep_the_frames_colours(tmp_path):
    job = Job(content=examples.CONTENT, style=[examples.STYLE], output=str(tmp_path / 'o.png'),
              width=40, height=30, seed=1, iterations=1, preserve_colors=True)
    record = {'environment': {'precision': None}, 'weights': {'published': True},
              'outcome': {}, 'checkpoints': []}
    board, said = Board('clip'), []
    progress = ClipProgress(job, record, said.append, [], 1, board)
    frame = np.zeros((30, 40, 3), np.uint8)
    frame[..., 0] = 200  # a red frame: its chroma, not the painting's, is kept
    image = np.random.default_rng(0).uniform(-40, 40, (1, 30, 40, 3))
    progress.begin(0, 1, frame)
    board.ask_save()
    progress.add(Iterate(1, 1, 1.0, 1.0, 2.0, image))
    progress.close()
    kept = job.picture(image, frame)
    assert not np.array_equal(kept, images.to_pixels(image))
    path = re.search(r'-> (\S+) \(Save now', said[-1]).group(1)
    assert np.array_equal(files.read_rgb(path), kept)
    listed = json.loads(pathlib.Path(job.record_path).read_text())['checkpoints']
    assert [(entry['frame'], entry['iteration'], entry['path'])
            for entry in listed] == [(1, 1, path)]
    shown = np.asarray(Image.open(io.BytesIO(board.image()[1])).convert('RGB'), float)
    assert np.abs(shown - kept).mean() < np.abs(shown - images.to_pixels(image)).mean() / 4


@pytest.mark.parametrize('text,expected', [('8080', ('127.0.0.1', 8080)),
                                           ('0.0.0.0:0', ('0.0.0.0', 0)),
                                           ('[::1]:9000', ('::1', 9000))])
def test_preview_addresses(text, expected):
    assert preview.address(text) == expected


def test_bad_preview_flags_are_one_line(tmp_path, synthetic_files):
    one_line_error(run_here('--preview', 'here', cwd=tmp_path), "argument --preview: 'here' is "
                   'not [HOST:]PORT')
    one_line_error(run_here('--preview', '0', '--explain', cwd=tmp_path),
                   '--preview watches a painting, a clip or a batch; it cannot be combined '
                   'with --explain')
    with preview.PreviewServer('127.0.0.1', 0, Board()) as taken:
        port = taken.server_address[1]
        one_line_error(run_art('--preview', port, '--weights', synthetic_files['new'],
                               '--width', 32, '--iterations', 1, cwd=tmp_path),
                       '--preview: cannot listen on 127.0.0.1:%d: Address already in use' % port)
    assert [path for path in tmp_path.rglob('*') if path.is_file()] == []


def test_a_page_on_the_network_says_so(browser):
    board, said = Board(), []
    with preview.serving(('0.0.0.0', 0), board, said.append):
        port = int(re.search(r':(\d+)/', said[0]).group(1))
        assert said[1] == ('preview: reachable from the network at 0.0.0.0:%d, by whoever has '
                           'the token' % port)
        page = browser.new_page()
        page.goto(said[0][len('preview: '):].replace('0.0.0.0', '127.0.0.1'))
        page.wait_for_selector('#network', state='visible')
        assert 'reachable from the network at 0.0.0.0:%d' % port in page.inner_text('#network')
        page.close()
