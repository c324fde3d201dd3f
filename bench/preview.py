"""What the live page (`--preview`) costs the painting: seconds per evaluation of whole
run_art.py runs without a page, with the page served and none open, and with headless
Chromium tabs watching it on this machine.

    python bench/preview.py [--sizes 400x300,800x600] [--iterations 30] [--repeats 3]
                            [--tabs 1,4] [--weights synthetic]

The modes alternate within each repeat, so that a drift of the machine reaches them alike.
A run's seconds per evaluation come from its record: from iteration 1 to its last, so that
building the graph is left out. Needs Playwright and Chromium (the test extra and Debian's
chromium package).
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

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / 'tests'))
from test_preview import CHROMIUM, CHROMIUM_FLAGS, URL_LINE  # noqa: E402


def seconds_per_evaluation(record_path):
    rows = json.loads(pathlib.Path(record_path).read_text())['trajectory']['rows']
    first, last = rows[1], rows[-1]
    return (last[2] - first[2]) / (last[1] - first[1])


def paint(size, iterations, weights, tabs, browser, folder):
    """One run_art.py painting at `size` (WxH), with `tabs` pages open (None: no --preview);
    its seconds per evaluation."""
    width, height = size.split('x')
    output = os.path.join(folder, 'art.png')
    command = [sys.executable, str(ROOT / 'run_art.py'), '--weights', weights, '--width', width,
               '--height', height, '--iterations', str(iterations), '--checkpoint-every', '0',
               '--output', output, '--seed', '1']
    if tabs is not None:
        command += ['--preview', '127.0.0.1:0']
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
    for page in pages:
        page.close()
    return seconds_per_evaluation(os.path.join(folder, 'art.json'))


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
    print('| size | mode | seconds per evaluation (median of %d) | runs |' % options.repeats)
    print('|---|---|---|---|')
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
                print('| %s | %s | %.3f s | %s |' % (size, name, statistics.median(found[name]),
                                                     ' '.join('%.3f' % v for v in found[name])))
        browser.close()


def cpu_model():
    text = subprocess.run(['lscpu'], capture_output=True, text=True).stdout
    found = re.search(r'Model name:\s*(.+)', text)
    return found.group(1).strip() if found else 'unknown'


if __name__ == '__main__':
    main()
