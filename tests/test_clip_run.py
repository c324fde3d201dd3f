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
