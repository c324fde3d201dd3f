"""What the live page (`--preview`) costs the painting: seconds per evaluation of whole
run_art.py runs without a page, with the page served and none open, and with headless
Chromium tabs watching it on this machine.

    python bench/preview.py [--sizes 400x300,800x600] [--iterations 30] [--repeats 3]
                            [--tabs 1,4] [--weights synthetic]

The modes alternate within each repeat, so that a drift of the machine reaches them alike.
A run's seconds per evaluation come from its record: from iteration 1 to its last, so that
building the graph is left out. Needs Playwright and Chromium (the test extra and Debian's
chromium package). The browser runs on this machine, beside the painting: its CPU time
during each run (all Chromium processes, read from /proc) is given as a share of one core,
so that what the tabs themselves take can be told from what serving them takes.
"""
import argparse
import json
import os
import pathlib
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / 'tests'))
from test_preview import CHROMIUM, CHROMIUM_FLAGS, URL_LINE  # noqa: E402


def seconds_per_evaluation(record_path):
    rows = json.loads(pathlib.Path(record_path).read_text())['trajectory']['rows']
    first, last = rows[1], rows[-1]
    return (last[2] - first[2]) / (last[1] - first[1])


def browser_cpu_seconds():
    """CPU seconds (user + system) that the Chromium processes now running have used."""
    ticks = os.sysconf('SC_CLK_TCK')
    total = 0
    for stat in pathlib.Path('/proc').glob('[0-9]*/stat'):
        try:
            text = stat.read_text()
        except OSError:  # the process ended meanwhile
            continue
        name, fields = text[text.index('(') + 1:text.rindex(')')], text[text.rindex(')') + 2:]
        if 'chrom' in name:
            fields = fields.split()
            total += int(fields[11]) + int(fields[12])
    return total / ticks


def paint(size, iterations, weights, tabs, browser, folder):
    """One run_art.py painting at `size` (WxH), with `tabs` pages open (None: no --preview):
    its seconds per evaluation, and the browser's CPU time during it as a share of one core."""
    width, height = size.split('x')
    output = os.path.join(folder, 'art.png')
    command = [sys.executable, str(ROOT / 'run_art.py'), '--weights', weights, '--width', width,
               '--height', height, '--iterations', str(iterations), '--checkpoint-every', '0',
               '--output', output, '--seed', '1']
    if tabs is not None:
        command += ['--preview', '127.0.0.1:0']
    started, browser_before = time.monotonic(), browser_cpu_seconds()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=folder)
    pages = []
    for line in process.stdout:
        found = URL_LINE.match(line.strip())
        if found and tabs:
            pages = [browser.new_page() for _ in range(tabs)]
            for page in pages:
                page.goto(found.group(1))
            break
        if found:
            break
    drain = threading.Thread(target=process.stdout.read, daemon=True)
    drain.start()
    if pages:  # the tabs keep watching until the run ends
        pages[0].wait_for_selector('#downloads a', timeout=3600 * 1000)
    if process.wait() != 0:
        raise SystemExit('run_art.py failed: %s' % ' '.join(command))
    browser_share = (browser_cpu_seconds() - browser_before) / (time.monotonic() - started)
    for page in pages:
        page.close()
    return seconds_per_evaluation(os.path.join(folder, 'art.json')), browser_share


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--sizes', default='400x300,800x600')
    parser.add_argument('--iterations', type=int, default=30)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--tabs', default='1,4', help='pages open at once, for each mode')
    parser.add_argument('--weights', default='synthetic')
    options = parser.parse_args()
    from playwright.sync_api import sync_playwright  # pylint: disable=import-outside-toplevel
    modes = [('no --preview', None), ('served, no page open', 0)] + [
        ('%s tab%s open' % (tabs, '' if tabs == '1' else 's'), int(tabs))
        for tabs in options.tabs.split(',')]
    print('CPU: %s' % cpu_model())
    print('| size | mode | seconds per evaluation (median of %d) | runs | browser CPU (cores) |'
          % options.repeats)
    print('|---|---|---|---|---|')
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        for size in options.sizes.split(','):
            found = {name: [] for name, _ in modes}
            for _ in range(options.repeats):
                for name, tabs in modes:
                    folder = tempfile.mkdtemp(prefix='art-preview-bench-')
                    found[name].append(paint(size, options.iterations, options.weights, tabs,
                                             browser, folder))
                    shutil.rmtree(folder)
            for name, _ in modes:
                seconds = [each for each, _ in found[name]]
                shares = [share for _, share in found[name]]
                print('| %s | %s | %.3f s | %s | %.2f |' % (
                    size, name, statistics.median(seconds), ' '.join('%.3f' % v for v in seconds),
                    statistics.median(shares)))
        browser.close()


def cpu_model():
    text = subprocess.run(['lscpu'], capture_output=True, text=True).stdout
    found = re.search(r'Model name:\s*(.+)', text)
    return found.group(1).strip() if found else 'unknown'


if __name__ == '__main__':
    main()
