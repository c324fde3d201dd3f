"""Pictures in and out of the network's space, starting images, and colour.

`pixels` and `image` as art/__init__.py defines them. `preprocess` and
`to_pixels` convert between the two; art.py's `load_image` and `save_image`
add the file (read and written by art.io.files); `generate_noise_image` makes
art.py's starting image.
"""
import numpy as np
from PIL import Image

from art.constants import COLOR_CHANNELS, MEAN_VALUES, NOISE_RATIO
from art.io.files import read_rgb, save_rgb


def resize_rgb(pixels, height, width):
    """Resample RGB (uint8, or float as colour control leaves it) to (height, width) with
    Lanczos; unchanged if already so."""
    if pixels.shape[:2] == (height, width):
        return pixels
    if pixels.dtype != np.uint8:
        return np.stack([resize_plane(pixels[..., channel], height, width, Image.LANCZOS)
                         for channel in range(pixels.shape[2])], axis=-1)
    resized = Image.fromarray(pixels).resize((width, height), Image.LANCZOS)
    return np.asarray(resized)


def resize_plane(values, height, width, method=Image.BILINEAR):
    """One float channel (a mask, or a colour) resampled to (height, width)."""
    if values.shape == (height, width):
        return np.asarray(values, np.float64)
    plane = Image.fromarray(np.asarray(values, np.float32), mode='F')
    return np.asarray(plane.resize((width, height), method), np.float64)


def resize_mask(mask, height, width):
    """A mask in [0, 1] resampled to (height, width): bilinear, which rings less than
    Lanczos at a hard edge, clipped back to [0, 1]."""
    return np.clip(resize_plane(mask, height, width), 0.0, 1.0)


def displayable(pixels):
    """RGB of any range as uint8: rounded and clipped to 0..255."""
    return pixels if pixels.dtype == np.uint8 else \
        np.clip(np.rint(pixels), 0, 255).astype(np.uint8)


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
    channels = [resize_plane(image[0, :, :, c], height, width, Image.BICUBIC)
                for c in range(image.shape[3])]
    return np.stack(channels, axis=-1)[None].astype(np.float32)


def preserve_colors(pixels, content_pixels):
    """`pixels` with the colours of `content_pixels`: luminance (Y) from the
    first, chroma (Cb, Cr) from the second, in YCbCr as JPEG defines it
    (ITU-R BT.601, full range)."""
    luma = Image.fromarray(pixels).convert('YCbCr').getchannel('Y')
    _, cb, cr = Image.fromarray(resize_rgb(content_pixels, *pixels.shape[:2])).convert('YCbCr').split()
    return np.asarray(Image.merge('YCbCr', (luma, cb, cr)).convert('RGB'))
