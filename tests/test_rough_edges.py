"""What a new user hit: rotated phone photos, TIFF output, file permissions, bad weights
paths, absurd image headers, a download server that goes away for a while."""
import errno
import os
import shutil
import struct
import subprocess
import sys
import threading
import time
import zlib

import numpy as np
import pytest
from PIL import Image, ImageOps

import art
import art.app.cli
from art.network import download
from art.io import files
from art.app.job import Job
from art.app.record import read_record
from art.app.loading import read_pictures
from http_server import FileServer
from helpers import RUN_ART, ROOT, mat_payload, one_line_error, run_art


def paint(capsys, *argv):
    code = art.app.cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def rotated(tmp_path):
    """A 24x12 picture stored sideways (12x24) with EXIF orientation 6, as phones do."""
    y, x = np.mgrid[0:12, 0:24]
    upright = np.stack([x * 10, y * 20, 255 - x * 10], axis=-1).astype(np.uint8)
    stored = Image.fromarray(upright).transpose(Image.Transpose.ROTATE_90)  # 12 wide, 24 high
    exif = Image.Exif()
    exif[files.EXIF_ORIENTATION] = 6
    path = tmp_path / 'phone.jpg'
    stored.save(path, exif=exif, quality=95)
    return path


def test_exif_orientation_is_applied_to_every_input(rotated, tmp_path):
    with Image.open(rotated) as picture:
        expected = np.asarray(ImageOps.exif_transpose(picture).convert('RGB'))
    assert expected.shape == (12, 24, 3)
    assert files.picture_size(str(rotated)) == (12, 24)
    np.testing.assert_array_equal(files.read_rgb(str(rotated)), expected)
    job = Job(content=rotated, style=[rotated], init='image', init_image=rotated,
              output=tmp_path / 'o.png', width=24, height=12, seed=0, iterations=1)
    pictures = read_pictures(job)
    for pixels in (pictures.content, pictures.styles[0], pictures.init):
        np.testing.assert_array_equal(pixels, expected)


def test_a_rotated_content_photo_is_painted_upright(rotated, tmp_path, capsys, synthetic_files):
    code, out, _ = paint(capsys, '--content', rotated, '--style', rotated,
                         '--weights', synthetic_files['old'],
                         '--height', 12, '--iterations', 1, '--output', tmp_path / 'p.png')
    assert code == 0, out
    # The width follows the upright picture's aspect ratio (24x12), not the stored one.
    assert files.read_rgb(str(tmp_path / 'p.png')).shape == (12, 24, 3)


def test_a_painting_whose_layers_stop_before_conv5_1_runs(tmp_path, capsys, synthetic_files):
    # Only the convolutions up to conv2_2 are read; memory and FLOPs are counted on them.
    code, out, err = paint(capsys, '--weights', synthetic_files['new'], '--width', 24,
                           '--height', 18, '--iterations', 1, '--content-layers', 'conv2_2',
                           '--style-layers', 'conv1_1', '--output', tmp_path / 'p.png')
    assert code == 0, err
    assert files.read_rgb(str(tmp_path / 'p.png')).shape == (18, 24, 3)


@pytest.mark.parametrize('extension', files.IMAGE_EXTENSIONS)
def test_every_promised_image_type_is_written(tmp_path, extension):
    pixels = (np.random.RandomState(0).rand(6, 8, 3) * 255).astype(np.uint8)
    path = tmp_path / ('p' + extension)
    files.save_rgb(str(path), pixels)
    back = files.read_rgb(str(path))
    assert back.shape == (6, 8, 3)
    if extension in ('.png', '.bmp', '.tif', '.tiff'):
        np.testing.assert_array_equal(back, pixels)


@pytest.mark.parametrize('extension', ['.tif', '.tiff'])
def test_a_run_writes_tiff(tmp_path, capsys, synthetic_files, extension):
    output = tmp_path / ('painted' + extension)
    code, out, err = paint(capsys, '--weights', synthetic_files['old'], '--width', 16,
                           '--iterations', 2,
                           '--checkpoint-every', 1, '--output', output)
    assert code == 0, err
    assert files.read_rgb(str(output)).shape == (12, 16, 3)
    assert (tmp_path / ('painted-1' + extension)).exists()


@pytest.mark.parametrize('umask', [0o022, 0o002, 0o077])
def test_outputs_get_the_permissions_of_new_files(tmp_path, capsys, synthetic_files, umask):
    previous = os.umask(umask)
    try:
        code, out, err = paint(capsys, '--weights', synthetic_files['old'], '--width', 16,
                               '--iterations', 1,
                               '--loss-log', tmp_path / 'o' / 'log.csv',
                               '--output', tmp_path / 'o' / 'p.png')
    finally:
        os.umask(previous)
    assert code == 0, err
    written = sorted(os.listdir(tmp_path / 'o'))
    assert written == ['log.csv', 'p-0.png', 'p-losses.png', 'p-sheet.png', 'p.json', 'p.png']
    for name in written:
        assert os.stat(tmp_path / 'o' / name).st_mode & 0o777 == 0o666 & ~umask, name


def huge_png(path, width, height):
    """A PNG whose header claims width x height and whose data is one empty row."""
    def chunk(kind, data):
        return (struct.pack('>I', len(data)) + kind + data
                + struct.pack('>I', zlib.crc32(kind + data) & 0xffffffff))
    header = struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', header)
                     + chunk(b'IDAT', zlib.compress(b'\0')) + chunk(b'IEND', b''))
    return path


def test_bad_weights_paths_and_absurd_headers_are_one_line_errors(tmp_path, capsys):
    folder = tmp_path / 'weights'
    folder.mkdir()
    empty = tmp_path / 'empty.mat'
    empty.write_bytes(b'')
    huge = huge_png(tmp_path / 'huge.png', 100000, 100000)
    cases = [
        (['--weights', folder], '%s: is a folder, not a weights file' % folder),
        (['--weights', empty], '%s: is an empty file (0 bytes), not a weights file' % empty),
        (['--content', huge], '%s: its header claims a picture too large to read' % huge),
        (['--style', huge], '%s: its header claims a picture too large to read' % huge),
        (['--init', 'image', '--init-image', huge], 'its header claims a picture too large'),
    ]
    for argv, message in cases:
        code, out, err = paint(capsys, *argv, '--output', tmp_path / 'out' / 'p.png')
        assert code == 2, (argv, err)
        assert len(err.strip().splitlines()) == 1 and message in err, err
    assert '100000x100000' in err
    assert not (tmp_path / 'out').exists() and empty.read_bytes() == b''


def test_retries_back_off_1_2_4_8_16_seconds(tmp_path):
    with FileServer(b'') as server:
        url = server.url
    waits = []
    with pytest.raises(download.DownloadError, match='tried 6 times over 31 s'):
        download.download(url, str(tmp_path / 'w.mat'), sleep=waits.append)
    assert waits == [1, 2, 4, 8, 16]


def test_a_server_that_vanishes_for_a_few_seconds_is_waited_for(tmp_path, synthetic_files):
    payload, md5 = mat_payload(synthetic_files)
    with FileServer(payload) as probe:
        port = probe.httpd.server_port
    comes_back = threading.Timer(2.5, lambda: started.append(FileServer(payload, port=port)
                                                             .__enter__()))
    started = []
    comes_back.start()
    began = time.time()
    try:
        assert download.download('http://127.0.0.1:%d/vgg.mat' % port, str(tmp_path / 'w.mat'),
                                 known={md5}) == md5
    finally:
        comes_back.join()
        for server in started:
            server.__exit__()
    assert 2.5 <= time.time() - began < 15
    assert (tmp_path / 'w.mat').read_bytes() == payload


def test_an_unreachable_server_is_one_line_naming_url_path_and_alternative(tmp_path, capsys,
                                                                           monkeypatch):
    monkeypatch.setattr(download, 'RETRY_DELAYS', (0, 0))
    target = tmp_path / 'weights' / 'vgg.mat'
    with FileServer(b'') as server:
        url = server.url
    code, _, err = paint(capsys, '--weights', target, '--weights-url', url,
                         '--output', tmp_path / 'p.png')
    assert code == 2 and len(err.strip().splitlines()) == 1
    for fragment in ('cannot download %s' % url, 'put it at %s' % target, '--weights vgg19-8bit',
                     'or synthetic'):
        assert fragment in err
    assert not target.exists()
    missing = tmp_path / 'elsewhere.mat'
    code, _, err = paint(capsys, '--weights', missing, '--offline', '--output', tmp_path / 'p.png')
    assert code == 2
    for fragment in ('not found and --offline is given', 'put it at %s' % missing,
                     download.VGG19_URL, '--weights vgg19-8bit', 'or synthetic'):
        assert fragment in err


@pytest.mark.parametrize('flag', ['--content', '--style', '--init-image', '--weights'])
def test_a_named_pipe_given_as_a_file_is_a_one_line_error(tmp_path, synthetic_files, flag):
    """Opening a named pipe waits for a writer for ever: it is refused before it is opened."""
    pipe = tmp_path / 'pipe.png'
    os.mkfifo(pipe)
    argv = ['--weights', synthetic_files['old'], flag, pipe, '--output', tmp_path / 'p.png']
    if flag == '--init-image':
        argv += ['--init', 'image']
    line = one_line_error(run_art(*argv, cwd=tmp_path, timeout=120), str(pipe))
    assert 'is not a regular file (a named pipe or a device)' in line
    assert sorted(os.listdir(tmp_path)) == ['pipe.png']


def test_a_record_that_is_a_named_pipe_is_a_one_line_error(tmp_path, capsys):
    pipe = tmp_path / 'record.json'
    os.mkfifo(pipe)
    code, _, err = paint(capsys, '--replay', pipe)
    assert code == 2 and 'is not a regular file (a named pipe or a device)' in err
    assert len(err.strip().splitlines()) == 1


def test_a_file_name_too_long_is_found_before_painting(tmp_path, capsys, synthetic_files):
    """The file system takes names of at most 255 bytes (NAME_MAX), and every file is
    written first under a longer temporary name beside it."""
    limit = os.pathconf(tmp_path, 'PC_NAME_MAX')
    # A temporary name is .NAME.XXXXXXXX.partial.png: NAME's length + 22.
    longest_fitting = limit - 22 - len('-losses')
    cases = [('a' * (limit - 4), '', 'output'),
             # OUTPUT-losses.png fits; the last checkpoint's, OUTPUT-10000000.png, not.
             ('c' * longest_fitting, '-10000000', 'checkpoint')]
    for stem, suffix, what in cases:
        output = tmp_path / (stem + '.png')
        code, _, err = paint(capsys, '--weights', synthetic_files['old'], '--width', 16,
                             '--iterations', 10**7, '--checkpoint-every', 1, '--output', output)
        assert code == 2, err
        assert err.strip().splitlines() == ['run_art.py: error: cannot write %s %s: File name '
                                            'too long' % (what, tmp_path / (stem + suffix + '.png'))]
    assert os.listdir(tmp_path) == []


def test_a_loss_log_on_a_full_device_stops_the_run_before_painting(tmp_path, capsys,
                                                                    synthetic_files):
    """/dev/full takes no byte (ENOSPC), as a full disk: the log's first line cannot be
    written, and nothing is painted. (Where /dev cannot take the writability probe, a
    user who is not root, the run stops at the probe, with the system's reason.)"""
    code, out, err = paint(capsys, '--weights', synthetic_files['old'], '--width', 16,
                           '--iterations', 2, '--loss-log', '/dev/full',
                           '--output', tmp_path / 'p.png')
    assert code == 2, err
    [line] = err.strip().splitlines()
    assert line.startswith('run_art.py: error: cannot write loss log /dev/full: '), line
    if os.geteuid() == 0:
        assert line.endswith('No space left on device'), line
    assert not (tmp_path / 'p.png').exists() and 'iteration 0' not in out


def test_a_disk_that_fills_while_painting_keeps_what_fits_and_says_what_did_not(
        tmp_path, capsys, synthetic_files, monkeypatch):
    """Pictures stop fitting from the third on (checkpoint 2): the run stops, exit 1, with
    one line naming that file and the system's reason; the earlier checkpoints and a
    record saying why stay, and no temporary file is left."""
    written = []
    imwrite = files.iio.imwrite

    def filling(path, *arguments, **options):
        written.append(path)
        if len(written) > 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return imwrite(path, *arguments, **options)
    monkeypatch.setattr(files.iio, 'imwrite', filling)
    output = tmp_path / 'p.png'
    code, out, err = paint(capsys, '--weights', synthetic_files['old'], '--width', 16,
                           '--iterations', 5, '--checkpoint-every', 1, '--output', output)
    assert code == 1, err
    assert err.strip().splitlines() == [
        'run_art.py: error: cannot write %s: No space left on device' % (tmp_path / 'p-2.png')]
    record = read_record(str(tmp_path / 'p.json'))
    assert record['outcome']['status'] == 'failed'
    assert record['outcome']['reason'] == 'error: cannot write %s: No space left on device' % (
        tmp_path / 'p-2.png')
    assert [c['iteration'] for c in record['checkpoints']] == [0, 1]
    for name in ('p-0.png', 'p-1.png'):
        assert files.read_rgb(str(tmp_path / name)).shape == (12, 16, 3)
    assert sorted(os.listdir(tmp_path)) == ['p-0.png', 'p-1.png', 'p-losses.png', 'p.json']


def test_outputs_beside_the_image_may_not_be_inputs(tmp_path, capsys, synthetic_files,
                                                    reference):
    """The record, the contact sheet and the loss curve are written beside the output:
    an input of that name is refused, not overwritten (pictures are known by their
    contents, whatever their names)."""
    for what, flag, name in (('record', '--content', 'p.json'),
                             ('contact sheet', '--style', 'p-sheet.png'),
                             ('loss curve', '--init-image', 'p-losses.png')):
        source = tmp_path / name
        shutil.copy(reference.content_path, source)
        before = source.read_bytes()
        argv = ['--weights', synthetic_files['old'], flag, source, '--output', tmp_path / 'p.png']
        if flag == '--init-image':
            argv += ['--init', 'image']
        code, _, err = paint(capsys, *argv)
        assert code == 2 and len(err.strip().splitlines()) == 1, err
        assert '%s %s is the ' % (what, source) in err and 'choose another path' in err
        assert source.read_bytes() == before
        source.unlink()
    assert os.listdir(tmp_path) == []


def test_a_cut_download_left_by_a_killed_run_is_resumed(tmp_path, synthetic_files):
    payload, md5 = mat_payload(synthetic_files)
    target = tmp_path / 'w.mat'
    third = len(payload) // 3
    (tmp_path / 'w.mat.partial').write_bytes(payload[:third])
    with FileServer(payload) as server:
        assert download.download(server.url, str(target), known={md5}) == md5
    assert server.requests == [('/vgg.mat', 'bytes=%d-' % third)]
    assert target.read_bytes() == payload and os.listdir(tmp_path) == ['w.mat']


def test_a_client_error_is_not_retried(tmp_path):
    """404 (a wrong address) will not mend by waiting: one request, no retries."""
    waits = []
    with FileServer(b'payload') as server:
        with pytest.raises(download.DownloadError, match='HTTP Error 404'):
            download.download(server.url.replace('vgg.mat', 'elsewhere.mat'),
                              str(tmp_path / 'w.mat'), sleep=waits.append)
    assert waits == [] and len(server.requests) == 1


def test_a_closed_stdout_does_not_stop_the_painting(tmp_path, synthetic_files):
    """`run_art.py ... | head -1`: the reader goes away, the painting is still written."""
    output = tmp_path / 'p.png'
    process = subprocess.Popen(
        [sys.executable, RUN_ART, '--weights', str(synthetic_files['old']), '--width', '16',
         '--iterations', '2', '--output', str(output)],
        cwd=str(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=dict(os.environ, PYTHONPATH=str(ROOT)))
    process.stdout.close()
    _, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    assert b'Traceback' not in err and b'Exception ignored' not in err
    assert b'error' not in err, err
    assert files.read_rgb(str(output)).shape == (12, 16, 3)
