"""Images in and out of the network's space, as art.py handled them.

The network sees a (1, height, width, 3) float32 batch with MEAN_VALUES
subtracted; files hold uint8 RGB. `load_image` and `save_image` convert
between the two, and `generate_noise_image` makes art.py's starting image.
"""
import os
import tempfile

import imageio.v3 as iio
import numpy as np
from PIL import Image

from art.constants import COLOR_CHANNELS, MEAN_VALUES, NOISE_RATIO


class ImageError(Exception):
    """An image file that cannot be read or written; the message names it."""


def _to_rgb8(pixels, path):
    """Any decoded image (gray, gray+alpha, RGB, RGBA; 8 or 16 bit) as uint8 RGB.

    Alpha is composited on white, as a viewer shows a transparent image.
    """
    pixels = np.asarray(pixels)
    if pixels.dtype == np.bool_:
        pixels = pixels.astype(np.uint8) * 255
    if pixels.dtype.kind == 'f':
        scale = 255.0 if pixels.max(initial=0) <= 1.0 else 1.0
        pixels = pixels.astype(np.float64) * scale
    elif pixels.dtype.itemsize > 1:
        pixels = pixels.astype(np.float64) * (255.0 / np.iinfo(pixels.dtype).max)
    pixels = pixels.astype(np.float64)
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    if pixels.ndim != 3 or pixels.shape[2] not in (1, 2, 3, 4):
        raise ImageError('%s: unsupported image shape %s' % (path, pixels.shape))
    if pixels.shape[2] in (2, 4):
        alpha = pixels[:, :, -1:] / 255.0
        pixels = pixels[:, :, :-1] * alpha + 255.0 * (1.0 - alpha)
    if pixels.shape[2] == 1:
        pixels = np.repeat(pixels, 3, axis=2)
    return np.clip(np.rint(pixels), 0, 255).astype(np.uint8)


def read_rgb(path):
    """The image at `path` as an (H, W, 3) uint8 array; ImageError if unreadable."""
    if os.path.isdir(path):
        raise ImageError('%s: is a folder, not an image' % path)
    if not os.path.exists(path):
        raise ImageError('%s: file not found' % path)
    try:
        # The first frame of an animation; palettes are expanded by the reader.
        pixels = iio.imread(path, index=0, plugin='pillow')
    except Exception as error:  # pylint: disable=broad-except
        # Decoders fail in many ways on a non-image; all mean the same here.
        raise ImageError('%s: not a readable image (%s)'
                         % (path, str(error).splitlines()[0] if str(error)
                            else type(error).__name__)) from None
    return _to_rgb8(pixels, path)


def resize_rgb(pixels, height, width):
    """Resample uint8 RGB to (height, width) with Lanczos; unchanged if already so."""
    if pixels.shape[:2] == (height, width):
        return pixels
    resized = Image.fromarray(pixels).resize((width, height), Image.LANCZOS)
    return np.asarray(resized)


def preprocess(pixels, height, width):
    """uint8 RGB as the (1, height, width, 3) float32 batch the network takes.

    Resized, then MEAN_VALUES subtracted in float64 before the cast, as art.py.
    """
    pixels = resize_rgb(pixels, height, width)
    image = pixels.reshape((1,) + pixels.shape) - MEAN_VALUES
    return image.astype(np.float32)


def load_image(path, height, width):
    """Read an image, resize it to (height, width) and subtract MEAN_VALUES."""
    return preprocess(read_rgb(path), height, width)


def to_pixels(image):
    """A network-space batch as the uint8 RGB picture it stands for.

    Rounded to the nearest level: art.py truncated (astype('uint8')), which
    darkens by half a level on average and turns a float32 5.9999995 into 5.
    """
    image = np.asarray(image, dtype=np.float64) + MEAN_VALUES
    return np.clip(np.rint(image[0]), 0, 255).astype(np.uint8)


def write_atomic(path, write):
    """Call write(temporary_path) and rename the result onto `path`.

    The temporary file sits beside `path` with the same extension (writers
    pick the format from it), so a crash never leaves half a file at `path`.
    """
    folder, name = os.path.split(os.path.abspath(path))
    stem, extension = os.path.splitext(name)
    handle, partial = tempfile.mkstemp(prefix='.%s.' % stem,
                                       suffix='.partial' + extension, dir=folder)
    os.close(handle)
    try:
        write(partial)
        os.replace(partial, path)
    finally:
        if os.path.exists(partial):
            os.remove(partial)


def save_rgb(path, pixels):
    """Write uint8 RGB to `path` atomically; the extension picks the format."""
    extension = os.path.splitext(path)[1].lower()
    try:
        write_atomic(path, lambda partial: iio.imwrite(partial, pixels, extension=extension))
    except (OSError, ValueError, TypeError, KeyError) as error:
        raise ImageError('%s: cannot write image (%s)'
                         % (path, str(error).splitlines()[0] if str(error)
                            else type(error).__name__)) from None


def save_image(path, image):
    """Add MEAN_VALUES back, round, clip to 0..255 and write the picture (art.py's save_image)."""
    save_rgb(path, to_pixels(image))


def generate_noise_image(content_image, noise_ratio=NOISE_RATIO, seed=None):
    """art.py's starting image: uniform(-20, 20) noise mixed with the content.

    noise * noise_ratio + content * (1 - noise_ratio). The noise is drawn from
    numpy's legacy generator, so with seed=s it equals art.py's draw after
    np.random.seed(s); seed=None draws from the global state, as art.py did.
    The mix is taken in float64, as art.py's float64 content made it.
    """
    shape = np.shape(content_image)
    random = np.random if seed is None else np.random.RandomState(seed)
    noise = random.uniform(-20, 20, (1,) + tuple(shape[1:3]) + (COLOR_CHANNELS,))
    noise = noise.astype('float32')
    mixed = noise * noise_ratio + np.asarray(content_image, dtype=np.float64) * (1 - noise_ratio)
    return mixed.astype(np.float32)


INITS = ('mix', 'noise', 'content', 'image')


def initial_image(kind, content_image, noise_ratio=NOISE_RATIO, seed=None, image=None):
    """Where the optimizer starts: art.py's noise/content 'mix', pure 'noise'
    (art.py's uniform(-20, 20)), the 'content' image, or a given 'image'
    (network space, the content's shape)."""
    if kind == 'mix':
        return generate_noise_image(content_image, noise_ratio, seed)
    if kind == 'noise':
        return generate_noise_image(content_image, 1.0, seed)
    if kind == 'content':
        return np.array(content_image, dtype=np.float32)
    if kind == 'image' and image is not None:
        return np.asarray(image, dtype=np.float32)
    raise ValueError('init must be one of %s (image needs an image)' % ', '.join(INITS))


def resize_image(image, height, width):
    """A network-space batch resampled to (height, width), bicubic, in float."""
    channels = [np.asarray(Image.fromarray(image[0, :, :, c].astype(np.float32), mode='F')
                           .resize((width, height), Image.BICUBIC))
                for c in range(image.shape[3])]
    return np.stack(channels, axis=-1)[None].astype(np.float32)


def preserve_colors(pixels, content_pixels):
    """`pixels` with the colours of `content_pixels`: luminance (Y) from the
    first, chroma (Cb, Cr) from the second, in YCbCr as JPEG defines it
    (ITU-R BT.601, full range)."""
    luma = Image.fromarray(pixels).convert('YCbCr').getchannel('Y')
    _, cb, cr = Image.fromarray(resize_rgb(content_pixels, *pixels.shape[:2])).convert('YCbCr').split()
    return np.asarray(Image.merge('YCbCr', (luma, cb, cr)).convert('RGB'))
