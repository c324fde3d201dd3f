"""Issue 25's clip run: each frame written as it is done with the clip's record; a rerun
after an interruption paints only the frames left, and the same frames as one run."""
import numpy as np
import pytest

import art
from art.app import clip_run
from art.app.clip_run import ClipError, paint_clip_job
from art.io import files, video
from test_flow import clip


@pytest.fixture
def clip_folder(tmp_path):
    folder = tmp_path / 'clip'
    folder.mkdir()
    for index, frame in enumerate(clip(5)[0]):
        video.write_frame(str(folder), index, frame.astype(np.uint8))
    style = tmp_path / 'style.png'
    files.save_rgb(str(style), np.random.default_rng(4).uniform(0, 255, (96, 128, 3))
                   .astype(np.uint8))
    return str(folder), str(style)


def test_an_interrupted_clip_goes_on_and_paints_the_same_frames(tmp_path, clip_folder,
                                                               monkeypatch):
    content, style = clip_folder
    network = art.synthetic_weights(width_divisor=16)
    settings = dict(iterations=8, frame_iterations=4, temporal_weight=1e4, seed=1)
    whole = str(tmp_path / 'whole')
    assert paint_clip_job(network, content, [style], whole, **settings) == 5
    assert paint_clip_job(network, content, [style], whole, **settings) == 0

    stopped = str(tmp_path / 'stopped')
    write = video.write_frame

    def interrupted(folder, index, frame):
        if index == 3:
            raise KeyboardInterrupt
        write(folder, index, frame)

    monkeypatch.setattr(clip_run.video, 'write_frame', interrupted)
    with pytest.raises(KeyboardInterrupt):
        paint_clip_job(network, content, [style], stopped, **settings)
    monkeypatch.setattr(clip_run.video, 'write_frame', write)
    assert paint_clip_job(network, content, [style], stopped, **settings) == 2
    for index in range(5):
        assert np.array_equal(files.read_rgb(video.frame_path(stopped, index)),
                              files.read_rgb(video.frame_path(whole, index))), index
    with pytest.raises(ClipError, match='temporal_weight'):
        paint_clip_job(network, content, [style], stopped, **dict(settings, temporal_weight=0.0))


def test_the_painted_frames_become_a_video_of_the_clips_rate_and_sound(tmp_path):
    """A 12 fps clip with sound: the painted frames (here the clip's own, as a stand-in
    for paintings) are written at 12 fps with the sound copied; a missing frame is refused."""
    import subprocess
    import imageio_ffmpeg
    frames = [frame.astype(np.uint8) for frame in clip(6)[0]]
    silent, source = str(tmp_path / 'silent.mp4'), str(tmp_path / 'clip.mp4')
    video.write_video(silent, frames, fps=12)
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), '-y', '-loglevel', 'error', '-f', 'lavfi',
                    '-i', 'sine=duration=0.5', '-i', silent, '-c:v', 'copy', '-shortest',
                    source], check=True)
    painted = tmp_path / 'painted'
    painted.mkdir()
    for index, frame in enumerate(frames[:5]):
        video.write_frame(str(painted), index, frame)
    with pytest.raises(ClipError, match='5 of the clip.s 6 frames'):
        clip_run.assemble(source, str(painted), str(tmp_path / 'out.mp4'))
    video.write_frame(str(painted), 5, frames[5])
    clip_run.assemble(source, str(painted), str(tmp_path / 'out.mp4'))
    out = video.probe(str(tmp_path / 'out.mp4'))
    assert (out.frames, out.fps, out.audio) == (6, 12.0, 'aac')
