"""--explain reports the graph's facts; runs leave a contact sheet and a loss curve."""
import re
import signal

import imageio.v3 as iio
import numpy as np
import pytest

from art.io import sheets as pictures
from helpers import interrupt_run, run_here


def test_explain_reports_the_graph_without_optimizing(tmp_path, synthetic_files):
    result = run_here('--explain', '--weights', synthetic_files['old'], '--width', 40,
                     cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert 'Variables: 1. The image being painted is the only one:' in out
    assert 'Weights: 26 kernels and biases' in out
    assert re.search(r'^  input:0  shape \(1, 30, 40, 3\)  float32$', out, re.M)
    content = re.findall(r'^  content  (\S+) +p  \(1, 4, 5, 32\) ', out, re.M)
    style = re.findall(r'^  style    (\S+) +A  \((\d+), \2\) ', out, re.M)
    assert content == ['conv4_2']
    assert [layer for layer, _ in style] == ['conv1_1', 'conv2_1', 'conv3_1', 'conv4_1', 'conv5_1']
    assert 'x 1/(4NM) = 1/(4*32*20)' in out
    # The default objective divides each term by its reference loss.
    assert len(re.findall(r'relative: x \S+ \(1 / its reference loss\)', out)) == 6
    assert 'Total loss (eq. 7): 1 * content + 3 * style' in out
    art_py = run_here('--explain', '--weights', synthetic_files['old'], '--width', 40,
                      '--objective', 'art.py', cwd=tmp_path).stdout
    assert 'Total loss (eq. 7): 5 * content + 100 * style' in art_py and 'relative' not in art_py
    built = int(re.search(r'^Ops: (\d+), all built before optimizing; graph finalized: True\.$',
                          out, re.M).group(1))
    after = int(re.search(r'ops afterwards: (\d+)\.$', out, re.M).group(1))
    assert built == after
    assert re.search(r'One evaluation costs [\d.]+ GFLOP \(forward [\d.]+, backward [\d.]+, '
                     r'Gram [\d.]+\); estimated peak memory [\d.]+ [MG]iB\.', out)
    assert not (tmp_path / 'output').exists()


def test_explain_describes_a_tiled_job_too(tmp_path, synthetic_files):
    """On tiles, --explain builds the crop graphs instead of the whole image's and lists the
    same terms, targets captured on the crops, and one evaluation."""
    args = ('--explain', '--weights', synthetic_files['old'], '--width', 250, '--height', 240,
            '--tv-weight', 0.5, '--seed', 3)
    result = run_here(*args, '--tile-size', 40, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert 'Crop graphs of a 250x240 painting' in out
    assert ('the network runs on 4 crops of 218x208 pixels (tiles of 48 pixels, a halo of 80)'
            in out)
    assert re.findall(r'^  content  (\S+) +p  \(1, 30, 32, 32\) ', out, re.M) == ['conv4_2']
    assert len(re.findall(r'^  style    conv\d_1 +A  \((\d+), \1\) ', out, re.M)) == 5
    assert 'Total loss (eq. 7): 1 * content + 3 * style + 0.5 * tv' in out
    assert re.search(r'^Ops: \d+, all built before optimizing; graphs finalized: True\.$', out,
                     re.M)
    # Every group's loss, total variation's too.
    evaluation = r'content ([\d.e+]+), style ([\d.e+]+), tv ([\d.e+]+), total ([\d.e+]+)'
    tiled = re.search(evaluation, out).groups()
    whole = run_here(*args, '--tile-size', 0, cwd=tmp_path)
    assert whole.returncode == 0, whole.stderr
    untiled = re.search(evaluation, whole.stdout).groups()
    # The report prints 4 digits: equal but where the last one rounds the other way.
    np.testing.assert_allclose([float(value) for value in tiled],
                               [float(value) for value in untiled], rtol=2e-3)
    assert not (tmp_path / 'output').exists()


def expected_sheet(count, height, width):
    return pictures.sheet_size([(height, width)] * count)


def test_a_run_leaves_a_contact_sheet_and_a_loss_curve(tmp_path, synthetic_files):
    result = run_here('--weights', synthetic_files['old'], '--width', 40, '--iterations', 4,
                     '--checkpoint-every', 2, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    sheet = iio.imread(tmp_path / 'output' / 'art-sheet.png')
    # content, style, checkpoints 0, 2, 4, result
    assert sheet.shape[1::-1] == expected_sheet(6, 30, 40)
    curve = iio.imread(tmp_path / 'output' / 'art-losses.png')
    assert curve.shape[:2] == (400, 640)
    assert curve.std() > 10  # lines and text drawn, not a blank image
    assert 'contact sheet' in result.stdout and 'loss curve' in result.stdout


def test_sheet_lays_out_labelled_thumbnails(tmp_path):
    items = [('a', np.zeros((30, 40, 3), np.uint8)), ('b', np.full((60, 40, 3), 255, np.uint8))]
    path = tmp_path / 'sheet.png'
    pictures.contact_sheet(str(path), items * 3, columns=4)
    sheet = iio.imread(path)
    assert sheet.shape[1::-1] == pictures.sheet_size([(30, 40), (60, 40)] * 3, columns=4)
    assert sheet.shape[0] == pictures.GAP + 2 * (pictures.THUMB_HEIGHT + pictures.LABEL_HEIGHT
                                                 + pictures.GAP)


def test_loss_curve_handles_zero_losses(tmp_path):
    path = tmp_path / 'curve.png'
    drawn = pictures.loss_curve(str(path), np.arange(5), {
        'content': np.zeros(5), 'style': np.ones(5), 'total': np.ones(5)})
    assert drawn is True
    assert iio.imread(path).shape[:2] == (400, 640)


@pytest.mark.parametrize('optimizer', ['lbfgs', 'adam'])
def test_interrupted_runs_leave_their_pictures(tmp_path, synthetic_files, optimizer):
    returncode, _, stderr = interrupt_run(tmp_path, synthetic_files['old'], 3, signal.SIGINT,
                                          '--optimizer', optimizer)
    assert returncode == 130, stderr
    assert iio.imread(tmp_path / 'output' / 'art-sheet.png').shape[2] == 3
    assert iio.imread(tmp_path / 'output' / 'art-losses.png').shape[:2] == (400, 640)
