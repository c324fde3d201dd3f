"""Images in and out: any format and size in, atomic writes out."""
import os

import imageio.v3 as iio
import numpy as np
import pytest
from PIL import Image

import art
from art.io.files import read_rgb, write_atomic


@pytest.fixture
def picture():
    y, x = np.mgrid[0:30, 0:40]
    return np.stack([x * 6, y * 8, (x + y) * 3], axis=-1).astype(np.uint8)


def test_load_image_resizes_and_subtracts_the_mean(tmp_path, picture):
    path = str(tmp_path / 'p.png')
    iio.imwrite(path, picture)
    image = art.load_image(path, 15, 20)
    assert image.shape == (1, 15, 20, 3) and image.dtype == np.float32
    back = image + art.MEAN_VALUES
    assert 0 <= back.min() and back.max() <= 255
    # Downsampling by 2 keeps a smooth ramp close to the mean of each block.
    expected = picture.reshape(15, 2, 20, 2, 3).mean(axis=(1, 3))
    assert np.abs(back[0] - expected).mean() < 3


def test_same_size_is_not_resampled(tmp_path, picture):
    path = str(tmp_path / 'p.png')
    iio.imwrite(path, picture)
    np.testing.assert_array_equal(np.rint(art.load_image(path, 30, 40)[0] + art.MEAN_VALUES[0]), picture)


def test_save_image_round_trip_and_clipping(tmp_path, picture):
    image = (picture[None].astype(np.float64) - art.MEAN_VALUES).astype(np.float32)
    image[0, 0, 0] = [1000, -1000, 0]
    path = str(tmp_path / 'out.png')
    art.save_image(path, image)
    saved = iio.imread(path)
    assert saved.dtype == np.uint8 and saved.shape == (30, 40, 3)
    np.testing.assert_array_equal(saved[1:], picture[1:])
    assert list(saved[0, 0]) == [255, 0, round(art.MEAN_VALUES[0, 0, 0, 2])]
    assert os.listdir(tmp_path) == ['out.png']


@pytest.mark.parametrize('mode', ['L', 'LA', 'RGBA', 'P', 'I;16', 'RGB'])
def test_every_common_pixel_format_reads_as_rgb(tmp_path, picture, mode):
    source = Image.fromarray(picture)
    if mode == 'LA':
        converted = source.convert('L').convert('LA')
    elif mode == 'RGBA':
        converted = source.convert('RGBA')
    elif mode == 'I;16':
        converted = Image.fromarray(picture[:, :, 0].astype(np.uint16) * 257)
    else:
        converted = source.convert(mode)
    path = str(tmp_path / 'p.png')
    converted.save(path)
    rgb = read_rgb(path)
    assert rgb.shape == (30, 40, 3) and rgb.dtype == np.uint8
    if mode in ('RGB', 'RGBA'):
        np.testing.assert_array_equal(rgb, picture)
    if mode == 'I;16':
        np.testing.assert_array_equal(rgb[:, :, 1], picture[:, :, 0])


def test_transparency_is_composited_on_white(tmp_path, picture):
    rgba = np.dstack([picture, np.zeros((30, 40), np.uint8)])
    rgba[:, :20, 3] = 255
    path = str(tmp_path / 'a.png')
    iio.imwrite(path, rgba)
    rgb = read_rgb(path)
    np.testing.assert_array_equal(rgb[:, :20], picture[:, :20])
    assert np.all(rgb[:, 20:] == 255)


def test_unreadable_images_are_clear_errors(tmp_path):
    with pytest.raises(art.ImageError, match='file not found'):
        read_rgb(str(tmp_path / 'none.png'))
    text = tmp_path / 'notes.png'
    text.write_text('not a picture')
    with pytest.raises(art.ImageError, match='not a readable image'):
        read_rgb(str(text))
    assert text.read_text() == 'not a picture'


def test_write_atomic_leaves_nothing_behind_on_failure(tmp_path):
    target = tmp_path / 'keep.png'
    target.write_bytes(b'old contents')

    def failing(partial):
        with open(partial, 'wb') as handle:
            handle.write(b'half')
        raise RuntimeError('disk full')

    with pytest.raises(RuntimeError):
        write_atomic(str(target), failing)
    assert target.read_bytes() == b'old contents'
    assert os.listdir(tmp_path) == ['keep.png']


def test_an_interrupt_during_a_write_waits_until_the_file_is_whole(tmp_path):
    import signal
    target = tmp_path / 'record.json'

    def interrupted(partial):
        with open(partial, 'w') as handle:
            handle.write('first half, ')
        os.kill(os.getpid(), signal.SIGINT)
        with open(partial, 'a') as handle:
            handle.write('second half')

    with pytest.raises(KeyboardInterrupt):
        write_atomic(str(target), interrupted)
    assert target.read_text() == 'first half, second half'
    assert os.listdir(tmp_path) == ['record.json']
