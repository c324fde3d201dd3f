"""Files in and out: pictures, text, atomic writes and checksums. No TensorFlow here.

Pictures are read and written as `pixels`: (height, width, 3) uint8 RGB
arrays, upright as a viewer shows them. Every file is written whole or not at
all (a temporary file beside it, renamed into place) and gets the permissions
a new file gets under the user's umask.
"""
import contextlib
import hashlib
import os
import signal
import tempfile
import threading
import warnings

import imageio.v3 as iio
import numpy as np
from PIL import Image

CHUNK = 1 << 20
# Signals that wait while a file is written (see signals_deferred).
DEFERRED_SIGNALS = (signal.SIGINT, signal.SIGTERM)
# The picture formats the project promises to write, by extension.
# The EXIF tag that says how a camera held the picture.
EXIF_ORIENTATION = 0x0112
IMAGE_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp', '.gif')


class ImageError(Exception):
    """An image file that cannot be read or written; the message names it."""


class WriteError(Exception):
    """A file that could not be written (a full disk, a name too long, no permission):
    `path`, `reason` (the system's words for why) and, where its name does not say it,
    `what` it is."""

    def __init__(self, path, reason, what=None):
        super().__init__('cannot write %s%s: %s' % (what + ' ' if what else '', path, reason))
        self.path, self.reason = path, reason


def reason_of(error):
    """An OSError in the system's words (No space left on device), without its number."""
    return error.strerror or str(error)


def _first_line(error):
    """An exception's message, first line only, or its type's name."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


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


def _claimed_size(path):
    """(width, height) that a picture's header claims, however large."""
    limit = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None
    try:
        with Image.open(path) as picture:
            return picture.size
    finally:
        Image.MAX_IMAGE_PIXELS = limit


def picture_size(path):
    """(height, width) of the picture at `path` as a viewer shows it, from its header only.

    ImageError for a folder, a missing file, a non-image, or a header that
    claims more than twice Pillow's MAX_IMAGE_PIXELS (about 179 megapixels):
    the mark of a damaged or hostile file, which would exhaust memory before
    it failed to decode.
    """
    if os.path.isdir(path):
        raise ImageError('%s: is a folder, not an image' % path)
    if not os.path.exists(path):
        raise ImageError('%s: file not found' % path)
    if not os.path.isfile(path):
        # Opening a named pipe would wait for a writer, for ever.
        raise ImageError('%s: is not a regular file (a named pipe or a device); give an '
                         'image file' % path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', Image.DecompressionBombWarning)
            with Image.open(path) as picture:
                width, height = picture.size
                orientation = picture.getexif().get(EXIF_ORIENTATION, 1)
    except Image.DecompressionBombError:
        width, height = _claimed_size(path)
        raise ImageError('%s: its header claims a picture too large to read, %dx%d (%.0f '
                         'megapixels, the limit is %.0f); a damaged file?' % (
                             path, width, height, width * height / 1e6,
                             2 * Image.MAX_IMAGE_PIXELS / 1e6)) from None
    except Exception as error:  # pylint: disable=broad-except
        # Pillow fails in many ways on a non-image; all mean the same here.
        raise ImageError('%s: not a readable image (%s)' % (path, _first_line(error))) from None
    # Orientations 5 to 8 turn the picture a quarter.
    return (width, height) if orientation in (5, 6, 7, 8) else (height, width)


def read_rgb(path):
    """The picture at `path` as uint8 RGB pixels, upright; ImageError if unreadable.

    An EXIF orientation tag (phones store photos sideways and tag them) is
    applied, so the pixels are the picture a viewer shows.
    """
    picture_size(path)
    try:
        # The first frame of an animation; palettes are expanded by the reader.
        pixels = iio.imread(path, index=0, plugin='pillow', rotate=True)
    except Exception as error:  # pylint: disable=broad-except
        raise ImageError('%s: not a readable image (%s)' % (path, _first_line(error))) from None
    return _to_rgb8(pixels, path)


def _new_file_mode():
    """The permissions open() gives a new file under this process's umask."""
    umask = os.umask(0o22)
    os.umask(umask)
    return 0o666 & ~umask


@contextlib.contextmanager
def signals_deferred():
    """SIGINT and SIGTERM that arrive inside are held, then given to their handlers.

    Python runs signal handlers in the main thread between any two bytecodes;
    an interrupt raised mid-write would leave the temporary file behind. (A
    thread's signal mask cannot do this: the kernel hands a process's signal
    to any thread that does not block it, TensorFlow's included.)
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held = []
    handlers = {signum: signal.signal(signum, lambda *caught: held.append(caught))
                for signum in DEFERRED_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
        if held:
            signum, frame = held[0]
            if callable(handlers[signum]):
                handlers[signum](signum, frame)
            elif handlers[signum] == signal.SIG_DFL:
                signal.raise_signal(signum)


def _temporary_beside(path):
    """A new empty file beside `path`, named as write_atomic names its temporary files:
    .STEM.RANDOM.partial.EXT (writers pick the format from the extension)."""
    folder, name = os.path.split(os.path.abspath(path))
    stem, extension = os.path.splitext(name)
    handle, partial = tempfile.mkstemp(prefix='.%s.' % stem, suffix='.partial' + extension,
                                       dir=folder)
    os.close(handle)
    return partial


def check_writable(path):
    """WriteError unless write_atomic can write `path`: its folder is made if needed, and
    a temporary file of the name write_atomic would use is made there and removed (so a
    read-only folder or a name too long for the file system is found before any work)."""
    try:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        os.remove(_temporary_beside(path))
    except OSError as error:
        raise WriteError(path, reason_of(error)) from None


def write_atomic(path, write):
    """Call write(temporary_path) and rename the result onto `path`.

    The temporary file sits beside `path` with the same extension, so a crash
    never leaves half a file at `path`, and Ctrl-C or SIGTERM wait until the file
    is in place. It is given the permissions of a newly created file (mkstemp's
    are 0600). An OSError on the way (a full disk) is a WriteError naming `path`,
    and leaves no temporary file.
    """
    with signals_deferred():
        partial = None
        try:
            partial = _temporary_beside(path)
            write(partial)
            os.chmod(partial, _new_file_mode())
            os.replace(partial, path)
        except OSError as error:
            raise WriteError(path, reason_of(error)) from None
        finally:
            if partial and os.path.exists(partial):
                os.remove(partial)


def write_text(path, text):
    """Write a text file atomically."""
    def write(partial):
        with open(partial, 'w', encoding='utf-8') as handle:
            handle.write(text)
    write_atomic(path, write)


def check_image_type(path):
    """ImageError unless pictures can be written in the format `path`'s extension names."""
    extension = os.path.splitext(path)[1].lower()
    if extension not in IMAGE_EXTENSIONS:
        raise ImageError('cannot write images of type %r (%s); use one of %s' % (
            extension or 'no extension', path, ' '.join(IMAGE_EXTENSIONS)))


def save_rgb(path, pixels):
    """Write uint8 RGB pixels to `path` atomically; the extension picks the format."""
    check_image_type(path)
    extension = os.path.splitext(path)[1].lower()
    try:
        write_atomic(path, lambda partial: iio.imwrite(partial, pixels, extension=extension,
                                                       plugin='pillow'))
    except (ValueError, TypeError, KeyError) as error:
        raise ImageError('%s: cannot write image (%s)' % (path, _first_line(error))) from None


def file_digest(path, algorithm='sha256'):
    """The hashlib digest of a file's contents."""
    digest = hashlib.new(algorithm)
    with open(path, 'rb') as handle:
        for block in iter(lambda: handle.read(CHUNK), b''):
            digest.update(block)
    return digest


def file_md5(path):
    """MD5 of a file's contents, the checksum MatConvNet publishes for its networks."""
    return file_digest(path, 'md5')


def file_sha256(path):
    """SHA-256 of a file's contents as hex, the checksum records keep of inputs and outputs."""
    return file_digest(path).hexdigest()
