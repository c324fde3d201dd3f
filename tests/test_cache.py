"""The weights cache: used when valid, rebuilt when not, never in the way."""
import os
import shutil

import numpy as np
import pytest

from art.network import cache
from art.network.layers import CONV_LAYERS
from art.network.synthetic import synthetic_conv_layers, write_synthetic_vgg19

FIRST = CONV_LAYERS[:4]


@pytest.fixture
def weights_file(tmp_path, synthetic_files, monkeypatch):
    monkeypatch.setenv('ART_CACHE_DIR', str(tmp_path / 'cache'))
    path = tmp_path / 'vgg.mat'
    shutil.copy(synthetic_files['old'], path)
    return str(path)


def forbid(monkeypatch, name):
    def fail(*args, **kwargs):
        raise AssertionError('%s was called' % name)
    monkeypatch.setattr(cache, name, fail)


def assert_same(first, second):
    assert sorted(first.layers) == sorted(second.layers)
    for name in first.layers:
        np.testing.assert_array_equal(first.layers[name].kernel, second.layers[name].kernel)
        np.testing.assert_array_equal(first.layers[name].bias, second.layers[name].bias)


def test_second_read_comes_from_the_cache(weights_file, monkeypatch):
    first = cache.read_vgg19_cached(weights_file, FIRST)
    assert first.md5 == cache.file_md5(weights_file).hexdigest()
    forbid(monkeypatch, 'read_network')
    forbid(monkeypatch, 'file_md5')
    second = cache.read_vgg19_cached(weights_file, FIRST)
    assert_same(first, second)
    assert (second.md5, second.layout) == (first.md5, 'old')
    stored = os.listdir(cache.cache_dir())
    assert sorted(stored) == ['checksums.json', 'vgg19-%s-as-stored.npz' % first.md5]


def test_only_the_layers_asked_for_are_cached_and_more_are_added(weights_file, monkeypatch):
    cache.read_vgg19_cached(weights_file, FIRST)
    path = os.path.join(cache.cache_dir(), [n for n in os.listdir(cache.cache_dir())
                                            if n.endswith('.npz')][0])
    with np.load(path) as stored:
        assert sorted(n for n in stored.files if n.endswith('.kernel')) == sorted(
            n + '.kernel' for n in FIRST)
    wider = cache.read_vgg19_cached(weights_file, CONV_LAYERS[:8])
    assert sorted(wider.layers) == sorted(CONV_LAYERS[:8])
    forbid(monkeypatch, 'read_network')
    assert sorted(cache.read_vgg19_cached(weights_file, FIRST).layers) == sorted(FIRST)


def test_a_changed_file_is_read_again(weights_file):
    first = cache.read_vgg19_cached(weights_file, FIRST)
    write_synthetic_vgg19(weights_file, conv_layers=synthetic_conv_layers(16, seed=99))
    second = cache.read_vgg19_cached(weights_file, FIRST)
    assert second.md5 != first.md5
    expected = synthetic_conv_layers(16, seed=99)
    np.testing.assert_array_equal(second.layers['conv1_1'].kernel, expected['conv1_1'].kernel)


def test_a_damaged_cache_is_passed_over(weights_file):
    first = cache.read_vgg19_cached(weights_file, FIRST)
    for name in os.listdir(cache.cache_dir()):
        with open(os.path.join(cache.cache_dir(), name), 'wb') as handle:
            handle.write(b'garbage')
    assert_same(first, cache.read_vgg19_cached(weights_file, FIRST))


def truncate(path):
    with open(path, 'rb') as handle:
        data = handle.read()
    with open(path, 'wb') as handle:
        handle.write(data[:len(data) // 3])


@pytest.mark.parametrize('index', ['not json {', '[1, 2]', '{"x": 1}'])
def test_a_damaged_cache_is_set_aside_said_and_made_anew(weights_file, monkeypatch, index):
    """A truncated archive and an index that is not one (a disk that filled, a copy cut
    short): each set aside with one line, rebuilt from the weights file, used after."""
    first = cache.read_vgg19_cached(weights_file, FIRST)
    folder = cache.cache_dir()
    [archive] = [name for name in os.listdir(folder) if name.endswith('.npz')]
    truncate(os.path.join(folder, archive))
    with open(os.path.join(folder, 'checksums.json'), 'w') as handle:
        handle.write(index)
    warnings = []
    again = cache.read_vgg19_cached(weights_file, FIRST, warn=warnings.append)
    assert_same(first, again)
    assert again.md5 == first.md5
    damaged = [line for line in warnings if archive in line]
    assert len(damaged) == 1 and 'BadZipFile' in damaged[0] and '\n' not in damaged[0]
    assert ('set aside as %s.damaged' % os.path.join(folder, archive)) in damaged[0]
    if index != '{"x": 1}':  # a dict of other files is an index, just not of this one
        assert len(warnings) == 2 and 'checksums.json is damaged' in warnings[0]
    assert sorted(os.listdir(folder)) == sorted(
        ['checksums.json', archive, archive + '.damaged']
        + (['checksums.json.damaged'] if len(warnings) == 2 else []))
    forbid(monkeypatch, 'read_network')
    forbid(monkeypatch, 'file_md5')
    warnings.clear()
    assert_same(first, cache.read_vgg19_cached(weights_file, FIRST, warn=warnings.append))
    assert warnings == []


def test_a_run_on_a_damaged_cache_warns_and_paints(weights_file, tmp_path, capsys):
    import art.app.cli
    argv = ['--weights', weights_file, '--width', '16', '--iterations', '1',
            '--checkpoint-every', '0', '--output', str(tmp_path / 'p.png')]
    assert art.app.cli.main(argv) == 0
    for name in os.listdir(cache.cache_dir()):
        truncate(os.path.join(cache.cache_dir(), name))
    capsys.readouterr()
    assert art.app.cli.main(argv) == 0
    out, err = capsys.readouterr()
    assert err == ''
    assert [line for line in out.splitlines() if line.startswith('warning: ')] == [
        line for line in out.splitlines() if 'is damaged' in line]
    assert len([line for line in out.splitlines() if 'is damaged' in line]) == 2


def test_the_transposed_kernels_are_cached_apart_and_read_back(weights_file, monkeypatch):
    from art.network.weights import read_vgg19
    stored = cache.read_vgg19_cached(weights_file, FIRST)
    swapped = cache.read_vgg19_cached(weights_file, FIRST, 'transposed')
    assert_same(swapped, read_vgg19(weights_file, layers=FIRST, kernel_layout='transposed'))
    assert not np.array_equal(swapped.layers['conv1_2'].kernel, stored.layers['conv1_2'].kernel)
    forbid(monkeypatch, 'read_network')
    assert_same(swapped, cache.read_vgg19_cached(weights_file, FIRST, 'transposed'))
    assert_same(stored, cache.read_vgg19_cached(weights_file, FIRST))
    assert sorted(os.listdir(cache.cache_dir())) == sorted(
        ['checksums.json'] + ['vgg19-%s-%s.npz' % (stored.md5, layout)
                              for layout in ('as-stored', 'transposed')])


def test_an_unwritable_cache_is_passed_over(weights_file, tmp_path, monkeypatch):
    blocker = tmp_path / 'not-a-folder'
    blocker.write_text('x')
    monkeypatch.setenv('ART_CACHE_DIR', str(blocker / 'cache'))
    weights = cache.read_vgg19_cached(weights_file, FIRST)
    assert sorted(weights.layers) == sorted(FIRST)


def test_cache_location_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv('ART_CACHE_DIR', raising=False)
    monkeypatch.setenv('XDG_CACHE_HOME', str(tmp_path))
    assert cache.cache_dir() == str(tmp_path / 'art')
    monkeypatch.setenv('ART_CACHE_DIR', str(tmp_path / 'mine'))
    assert cache.cache_dir() == str(tmp_path / 'mine')
