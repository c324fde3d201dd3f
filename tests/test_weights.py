"""The MatConvNet reader: both layouts, exact weights, clear errors."""
import hashlib
import shutil

import numpy as np
import pytest
import scipy.io

import art
from art.network.synthetic import synthetic_conv_layers, write_synthetic_vgg19
from art.network.layers import CONV_LAYERS, VGG19_WIDTHS


def test_reference_weights_read_byte_for_byte(reference, reference_weights):
    """Kernels come out as stored (no transpose), as art.py used them."""
    assert reference_weights.layout == 'old'
    for name in CONV_LAYERS:
        kernel, bias = reference_weights.layers[name]
        digests = [hashlib.sha256(array.tobytes()).hexdigest()[:16] for array in (kernel, bias)]
        assert digests == reference.scalars['weights_sha256_16'][name], name


@pytest.mark.parametrize('layout', ['old', 'new'])
def test_generator_writes_matconvnet_layout(synthetic_files, layout):
    mat = scipy.io.loadmat(synthetic_files[layout])
    top = sorted(name for name in mat if not name.startswith('__'))
    conv = mat['layers'][0][0][0][0]
    bias = conv['weights'][0][1]
    if layout == 'old':
        assert top == ['classes', 'layers', 'normalization']
        assert conv.dtype.names == ('weights', 'pad', 'type', 'name', 'stride')
        assert bias.shape == (1, 4)
    else:
        assert top == ['layers', 'meta']
        assert conv.dtype.names == ('name', 'type', 'weights', 'size', 'pad', 'stride',
                                    'precious', 'dilate', 'opts')
        assert bias.shape == (4, 1)
    assert mat['layers'].shape == (1, 43)


def test_both_layouts_read_to_identical_weights(synthetic_files):
    old = art.read_vgg19(synthetic_files['old'])
    new = art.read_vgg19(synthetic_files['new'])
    assert (old.layout, new.layout) == ('old', 'new')
    expected = synthetic_conv_layers(width_divisor=16, seed=3)
    for name in CONV_LAYERS:
        for ours, theirs in ((old, expected), (new, expected)):
            np.testing.assert_array_equal(ours.layers[name].kernel, theirs[name].kernel)
            np.testing.assert_array_equal(ours.layers[name].bias, theirs[name].bias)


def test_both_layouts_give_identical_losses(synthetic_files, small_images):
    content, style = small_images
    start = art.generate_noise_image(content, seed=0)
    results = []
    for layout in ('old', 'new'):
        with art.Painting(art.read_vgg19(synthetic_files[layout]), content, style) as painting:
            results.append(painting.evaluate(start))
    for old, new in zip(*results):
        np.testing.assert_array_equal(old, new)


def test_transposed_kernel_layout_swaps_spatial_axes(synthetic_files):
    stored = art.read_vgg19(synthetic_files['old'])
    swapped = art.read_vgg19(synthetic_files['old'], kernel_layout='transposed')
    kernel = stored.layers['conv2_1'].kernel
    np.testing.assert_array_equal(swapped.layers['conv2_1'].kernel, kernel.transpose(1, 0, 2, 3))
    assert not np.array_equal(swapped.layers['conv2_1'].kernel, kernel)


def test_reads_only_the_layers_asked_for(synthetic_files):
    weights = art.read_vgg19(synthetic_files['new'], layers=('conv1_1', 'conv1_2'))
    assert sorted(weights.layers) == ['conv1_1', 'conv1_2']


def test_standard_widths_are_recognised():
    assert art.synthetic_weights(width_divisor=1).widths() == VGG19_WIDTHS
    assert art.synthetic_weights(width_divisor=8).widths() != VGG19_WIDTHS


def read_error(path):
    with pytest.raises(art.WeightsError) as caught:
        art.read_vgg19(str(path))
    message = str(caught.value)
    assert str(path) in message and '\n' not in message
    return message


def test_missing_file(tmp_path):
    assert 'file not found' in read_error(tmp_path / 'nothing.mat')


def test_truncated_file(tmp_path, synthetic_files):
    truncated = tmp_path / 'truncated.mat'
    truncated.write_bytes(open(synthetic_files['old'], 'rb').read()[:100000])
    assert 'not a readable MATLAB .mat file' in read_error(truncated)


def test_not_a_mat_file(tmp_path):
    bogus = tmp_path / 'bogus.mat'
    bogus.write_bytes(b'<html>404 Not Found</html>' * 10)
    assert 'not a readable MATLAB .mat file' in read_error(bogus)


def test_mat_file_of_something_else(tmp_path):
    other = tmp_path / 'other.mat'
    scipy.io.savemat(str(other), {'x': np.arange(3)})
    assert 'not a MatConvNet network' in read_error(other)


def test_wrong_network_missing_layer(tmp_path):
    """A VGG-16-like file (no conv3_4) is named as another network."""
    mat = scipy.io.loadmat(write_synthetic_vgg19(str(tmp_path / 'full.mat'), width_divisor=16))
    keep = [i for i in range(mat['layers'].shape[1])
            if mat['layers'][0][i][0][0]['name'][0] not in ('conv3_4', 'relu3_4')]
    scipy.io.savemat(str(tmp_path / 'vgg16.mat'),
                     {'layers': mat['layers'][:, keep], 'normalization': mat['normalization']})
    message = read_error(tmp_path / 'vgg16.mat')
    assert 'conv3_4 not found' in message and 'not the VGG-19 network' in message


def test_wrong_kernel_shape(tmp_path):
    layers = synthetic_conv_layers(width_divisor=16)
    layers['conv2_2'] = art.network.weights.ConvLayer(np.zeros((3, 3, 5, 8), np.float32),
                                              np.zeros(8, np.float32))
    path = write_synthetic_vgg19(str(tmp_path / 'bad.mat'), conv_layers=layers)
    message = read_error(path)
    assert 'conv2_2' in message and '(3, 3, 5, 8)' in message


def test_folder_is_an_error(tmp_path):
    assert 'is a folder' in read_error(tmp_path)


def test_read_leaves_the_file_untouched(tmp_path, synthetic_files):
    copy = tmp_path / 'copy.mat'
    shutil.copy(synthetic_files['new'], copy)
    before = copy.read_bytes()
    art.read_vgg19(str(copy))
    assert copy.read_bytes() == before
