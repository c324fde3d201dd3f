"""Issue 25's clip I/O: video files through imageio-ffmpeg and folders of numbered frames,
probed, read by range and written back with the input's frame rate and audio."""
import subprocess

import imageio_ffmpeg
import numpy as np
import pytest

from art.io.video import (VideoError, folder_frames, frame_path, probe, read_frames,
                          write_frame, write_video)
from helpers import clip


@pytest.fixture(scope='module')
def frames():
    return [frame.astype(np.uint8) for frame in clip()[0]]


@pytest.fixture
def video(tmp_path, frames):
    path = str(tmp_path / 'clip.mp4')
    write_video(path, frames, fps=12)
    return path


def test_a_written_video_is_probed_and_read_back(video, frames):
    probed = probe(video)
    assert (probed.frames, probed.fps, probed.size, probed.audio) == (12, 12.0, (96, 128), None)
    read = list(read_frames(probed, 3, 5))
    assert [index for index, _ in read] == [3, 4, 5]
    for index, frame in read:  # lossy H.264: near, not equal
        assert np.abs(frame.astype(float) - frames[index]).mean() < 6


def test_audio_is_copied_from_the_input(tmp_path, video, frames):
    with_sound = str(tmp_path / 'sound.mp4')
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), '-y', '-loglevel', 'error', '-f', 'lavfi',
                    '-i', 'sine=frequency=440:duration=1', '-i', video, '-c:v', 'copy',
                    '-shortest', with_sound], check=True)
    assert probe(with_sound).audio == 'aac'
    out = str(tmp_path / 'out.mp4')
    write_video(out, frames, fps=12, audio_from=with_sound)
    assert probe(out).audio == 'aac' and probe(out).frames == 12


def test_a_folder_of_numbered_frames_is_a_clip(tmp_path, frames):
    folder = tmp_path / 'frames'
    folder.mkdir()
    for index, frame in enumerate(frames[:10]):
        write_frame(str(folder), index, frame)
    (folder / 'notes.txt').write_text('not a frame')
    assert folder_frames(str(folder))[-1] == frame_path(str(folder), 9)
    probed = probe(str(folder))
    assert (probed.frames, probed.size) == (10, (96, 128))
    index, frame = list(read_frames(probed, 9))[0]
    assert index == 9 and np.array_equal(frame, frames[9])


def written(path, text):
    path.write_text(text)
    return path


@pytest.mark.parametrize('make, fragment', [
    (lambda folder: folder / 'missing.mp4', 'file not found'),
    (lambda folder: folder, 'no numbered frames'),
    (lambda folder: written(folder / 'fake.mp4', 'text'), 'not a video'),
])
def test_what_is_no_clip_is_one_error(tmp_path, make, fragment):
    with pytest.raises(VideoError, match=fragment):
        probe(str(make(tmp_path)))
