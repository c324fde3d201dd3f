"""Clips in and out: a video file (through imageio-ffmpeg, which brings its own ffmpeg) or
a folder of numbered frames. Frames are uint8 RGB (height, width, 3).

A folder's frames are its pictures whose names hold a number, in the order of
that number (frame1.png, frame2.png, ..., frame10.png); it has no frame rate of its
own, so FOLDER_FPS stands for one.
"""
import collections
import functools
import os
import re
import subprocess

import numpy as np
from PIL import Image

from art.io.files import IMAGE_EXTENSIONS, WriteError, read_rgb, save_rgb

VIDEO_EXTENSIONS = ('.mp4', '.mov', '.webm', '.mkv', '.avi', '.gif')
FOLDER_FPS = 24.0

# A clip as probed: its path, frame count, frames per second, (height, width), and the
# audio codec (None without sound).
Clip = collections.namedtuple('Clip', 'path frames fps size audio')


class VideoError(ValueError):
    """A clip that cannot be read or written; the message names the file."""


def is_clip(path):
    """True when `path` names a clip: a folder, a file with a video extension, or a gif of
    more than one frame (a still gif is a picture)."""
    extension = os.path.splitext(path)[1].lower()
    if os.path.isdir(path) or (extension in VIDEO_EXTENSIONS and extension != '.gif'):
        return True
    if extension != '.gif' or not os.path.isfile(path):
        return False
    try:
        with Image.open(path) as gif:
            return getattr(gif, 'n_frames', 1) > 1
    except (OSError, ValueError):
        return False


def is_clip_output(path):
    """True when an output path names a video or a folder of frames (no extension)."""
    extension = os.path.splitext(path)[1].lower()
    return os.path.isdir(path) or not extension or extension in VIDEO_EXTENSIONS


def _ffmpeg():
    try:
        import imageio_ffmpeg  # pylint: disable=import-outside-toplevel
    except ImportError:
        raise VideoError("video needs imageio-ffmpeg: pip install -e '.[video]'") from None
    return imageio_ffmpeg


def folder_frames(folder):
    """The paths of a folder's numbered pictures, in the order of their numbers."""
    numbered = []
    for name in os.listdir(folder):
        digits = re.findall(r'\d+', os.path.splitext(name)[0])
        if digits and os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS:
            numbered.append((int(digits[-1]), name))
    return [os.path.join(folder, name) for _, name in sorted(numbered)]


def probe(path):
    """The Clip at `path`; VideoError when it is no clip or holds no frame."""
    if os.path.isdir(path):
        frames = folder_frames(path)
        if not frames:
            raise VideoError('%s: a folder with no numbered frames (frame1.png, ...)' % path)
        height, width = read_rgb(frames[0]).shape[:2]
        return Clip(path, len(frames), FOLDER_FPS, (height, width), None)
    if not os.path.isfile(path):
        raise VideoError('%s: file not found' % path)
    found = os.stat(path)
    return _probe_video(os.path.abspath(path), found.st_size, found.st_mtime_ns)


@functools.lru_cache(maxsize=16)
def _probe_video(path, size, modified):  # pylint: disable=unused-argument
    """probe of a video file, once per version of it (`size`, `modified`): counting its
    frames decodes it whole, and a run asks for its size, its checks and its painting."""
    ffmpeg = _ffmpeg()
    try:
        reader = ffmpeg.read_frames(path)
        meta = next(reader)
        reader.close()
        count, _ = ffmpeg.count_frames_and_secs(path)
    except (OSError, RuntimeError, StopIteration) as error:
        raise VideoError('%s: not a video ffmpeg can read (%s)' % (
            path, str(error).strip().splitlines()[-1] if str(error).strip() else 'no frames'))
    if not count:
        raise VideoError('%s: a video with no frames' % path)
    width, height = meta['size']
    return Clip(path, count, float(meta['fps']), (height, width), meta.get('audio_codec'))


def read_frames(clip, first=0, last=None):
    """Yield (index, frame) of a probed Clip's frames first..last (last included; the clip's
    last by default)."""
    last = clip.frames - 1 if last is None else last
    if os.path.isdir(clip.path):
        for index, path in enumerate(folder_frames(clip.path)[first:last + 1], first):
            yield index, read_rgb(path)
        return
    height, width = clip.size
    reader = _ffmpeg().read_frames(clip.path)
    next(reader)
    try:
        for index, data in enumerate(reader):
            if index > last:
                break
            if index >= first:
                yield index, np.frombuffer(data, np.uint8).reshape(height, width, 3).copy()
    finally:
        reader.close()


def first_frame(path, frames=()):
    """The first frame of the clip at `path`, or of its range `frames` ((first, last),
    counted from 1)."""
    first = frames[0] - 1 if frames else 0
    return next(read_frames(probe(path), first, first))[1]


def frame_path(folder, index):
    """Where a folder clip's frame `index` (0-based) goes: frame00001.png for index 0."""
    return os.path.join(folder, 'frame%05d.png' % (index + 1))


def even_sides(frame):
    """`frame` with a last row and column repeated where its height or width is odd: H.264's
    4:2:0 colour needs even sides."""
    height, width = frame.shape[:2]
    return np.pad(frame, ((0, height % 2), (0, width % 2), (0, 0)), mode='edge')


def write_video(path, frames, fps, audio_from=None):
    """Write `frames` (an iterable of uint8 RGB of one size) as the video `path`, at `fps`,
    with the audio of the file `audio_from` copied where it has some; odd sides are padded
    (even_sides). Returns the (height, width) written. Raises WriteError when ffmpeg did
    not leave a video of every frame (it says nothing and exits 0 on some failures)."""
    writer, sent, size = None, 0, None
    try:
        for frame in frames:
            frame = even_sides(np.asarray(frame, np.uint8))
            if writer is None:
                size = frame.shape[:2]
                writer = _ffmpeg().write_frames(
                    path, (size[1], size[0]), fps=fps, macro_block_size=1, quality=8,
                    ffmpeg_log_level='quiet', audio_path=audio_from,
                    audio_codec='copy' if audio_from else None)
                writer.send(None)
            writer.send(np.ascontiguousarray(frame).tobytes())
            sent += 1
    finally:
        if writer is not None:
            writer.close()
    try:
        written = probe(path).frames if sent else 0
    except VideoError:
        written = 0
    if written != sent:
        raise WriteError(path, 'ffmpeg wrote %d of %d frames' % (written, sent), 'the video')
    return size


def cut_audio(path, first, count, fps, into):
    """The sound of frames first.. first + count - 1 (0-based) of the video `path` at `fps`,
    as AAC in the Matroska file `into`: decoded and encoded again, since a stream copy
    starts at the video's keyframe before the cut. WriteError when ffmpeg cannot."""
    result = subprocess.run([_ffmpeg().get_ffmpeg_exe(), '-y', '-loglevel', 'error',
                             '-ss', '%.6f' % (first / fps), '-t', '%.6f' % (count / fps),
                             '-i', path, '-map', '0:a:0', '-c:a', 'aac', '-b:a', '192k',
                             '-f', 'matroska', into], capture_output=True, text=True, check=False)
    if result.returncode:
        raise WriteError(into, (result.stderr.strip().splitlines() or ['ffmpeg failed'])[-1],
                         'the sound')
    return into


def write_frame(folder, index, frame):
    """Write one frame of a folder clip (atomically, as every picture is written)."""
    save_rgb(frame_path(folder, index), frame)
