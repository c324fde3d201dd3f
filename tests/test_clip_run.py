"""Issue 25 on the command line: a clip painted into a video of its frame count, rate and
sound, each frame written with the clip's record as it is done; a rerun after SIGINT
paints only the frames left and the same frames as one run; bad input is one line."""
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import art.app.cli
from art.app.job import JobError
from art.app.resolving import resolve
from art.io import files, video
from helpers import (CLIP_FPS as FPS, CLIP_FRAMES as FRAMES, RUN_ART, ROOT, clip_flags,
                     one_line_error, run_here, running, snapshot)

def test_a_clip_becomes_a_video_of_its_frames_rate_and_sound(tmp_path, clip_files,
                                                             synthetic_files):
    result = run_here(*clip_flags(clip_files, synthetic_files), '--output', 'out.mp4',
                     cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    painted = video.probe(str(tmp_path / 'out.mp4'))
    assert (painted.frames, painted.fps, painted.size, painted.audio) == (
        FRAMES, float(FPS), (48, 64), 'aac')
    record = json.loads((tmp_path / 'out.json').read_text())
    assert record['outcome']['status'] == 'done'
    assert [frame['frame'] for frame in record['frames']] == list(range(1, FRAMES + 1))
    assert [frame['iterations'] for frame in record['frames']] == [8] + [4] * (FRAMES - 1)
    assert record['frames'][0]['temporal_error'] is None
    assert all(frame['temporal_error'] >= 0 for frame in record['frames'][1:])
    # Each frame's losses by group: the temporal loss from the second frame on.
    assert 'temporal_loss' not in record['frames'][0]
    assert all(frame['temporal_loss'] > 0 for frame in record['frames'][1:])
    for index, frame in enumerate(record['frames']):
        assert frame['sha256'] == files.file_sha256(
            video.frame_path(str(tmp_path / 'out-frames'), index))


def test_a_video_is_decoded_to_count_its_frames_once_per_run(tmp_path, clip_files,
                                                             synthetic_files, monkeypatch):
    """Its size, its checks and its painting all ask for the clip: counting its frames
    decodes it whole, so that is done once (and again only for a changed file)."""
    import imageio_ffmpeg  # pylint: disable=import-outside-toplevel
    counted = []
    real = imageio_ffmpeg.count_frames_and_secs

    def counting(path, *args, **kwargs):
        counted.append(os.path.abspath(path))
        return real(path, *args, **kwargs)
    monkeypatch.setattr(imageio_ffmpeg, 'count_frames_and_secs', counting)
    copied = tmp_path / 'clip.mp4'
    copied.write_bytes((clip_files / 'clip.mp4').read_bytes())
    flags = [str(flag) for flag in clip_flags(clip_files, synthetic_files)]
    flags[flags.index('--content') + 1] = str(copied)
    assert art.app.cli.main(flags + ['--frames', '1:2', '--output', str(tmp_path / 'o.mp4')]) == 0
    assert counted.count(str(copied)) == 1
    os.utime(copied, ns=(0, 0))  # the same file, another version
    assert video.probe(str(copied)).frames == FRAMES and counted.count(str(copied)) == 2


def sound_seconds(path):
    """The length of a video's sound, decoded (8 kHz mono samples counted)."""
    import imageio_ffmpeg  # pylint: disable=import-outside-toplevel
    samples = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), '-loglevel', 'error', '-i',
                              str(path), '-map', '0:a:0', '-f', 's16le', '-ac', '1', '-ar', '8000',
                              '-'], capture_output=True, check=True).stdout
    return len(samples) / 2 / 8000


def test_a_range_of_frames_keeps_the_stretch_of_sound_it_shows(tmp_path, clip_files,
                                                                synthetic_files):
    """--frames 4:6 of the 12 fps clip: a quarter of a second of its sound, not all of it."""
    result = run_here(*clip_flags(clip_files, synthetic_files), '--frames', '4:6',
                      '--output', 'out.mp4', cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    painted = video.probe(str(tmp_path / 'out.mp4'))
    assert (painted.frames, painted.audio) == (3, 'aac')
    assert abs(sound_seconds(tmp_path / 'out.mp4') - 3 / FPS) <= 0.05
    assert abs(sound_seconds(clip_files / 'clip.mp4') - FRAMES / FPS) <= 0.05


def test_a_clip_at_an_odd_size_plays_back_with_every_frame(tmp_path, clip_files,
                                                          synthetic_files, capsys):
    """31 wide keeps the clip's aspect at 31x23: H.264 takes even sides only, so the
    video's frames are padded to 32x24, and the run says so."""
    flags = clip_flags(clip_files, synthetic_files)
    flags[flags.index('--width') + 1] = 31
    code = art.app.cli.main([str(flag) for flag in flags] + [
        '--frames', '1:2', '--output', str(tmp_path / 'odd.mp4')])
    said = capsys.readouterr()
    assert code == 0, said.err
    painted = video.probe(str(tmp_path / 'odd.mp4'))
    assert (painted.frames, painted.size) == (2, (24, 32))
    assert files.read_rgb(video.frame_path(str(tmp_path / 'odd-frames'), 0)).shape == (23, 31, 3)
    assert "(31x23, padded to 32x24: a video's sides are even)" in said.out


def test_a_failed_encode_is_one_line_naming_the_frames_and_leaves_no_video(
        tmp_path, clip_files, synthetic_files, capsys, monkeypatch):
    """ffmpeg can fail, say nothing and exit 0: the video is checked, not trusted."""
    def silent_failure(path, *args, **kwargs):
        open(path, 'wb').close()
        while True:
            yield
    import imageio_ffmpeg  # pylint: disable=import-outside-toplevel
    monkeypatch.setattr(imageio_ffmpeg, 'write_frames', silent_failure)
    code = art.app.cli.main([str(flag) for flag in clip_flags(clip_files, synthetic_files)] + [
        '--frames', '1:2', '--output', str(tmp_path / 'out.mp4')])
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(lines) == 1, lines
    assert 'cannot write the video %s: ffmpeg wrote 0 of 2 frames; the painted frames are in ' \
           '%s' % (tmp_path / 'out.mp4', tmp_path / 'out-frames') in lines[0]
    assert not (tmp_path / 'out.mp4').exists()
    assert len(os.listdir(tmp_path / 'out-frames')) == 2


def test_a_range_of_a_folder_clip_paints_into_a_folder(tmp_path, clip_files, synthetic_files):
    result = run_here(*clip_flags(clip_files, synthetic_files, 'frames'), '--frames', '4:',
                     '--output', 'painted', '--temporal-weight', 0, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert sorted(os.listdir(tmp_path / 'painted')) == [
        'frame%05d.png' % number for number in (4, 5, 6)]
    record = json.loads((tmp_path / 'painted.json').read_text())
    assert record['job']['frames'] == [4, 6]
    assert record['inputs']['content']['frames'] == FRAMES


def recorded_frames(path):
    """How many frames the clip's record at `path` lists as painted (0 before it exists)."""
    try:
        return len(json.loads(path.read_text()).get('frames', []))
    except (OSError, ValueError):
        return 0


def test_a_clip_stopped_by_sigint_goes_on_and_paints_the_same_frames(tmp_path, clip_files,
                                                                    synthetic_files):
    flags = [str(flag) for flag in clip_flags(clip_files, synthetic_files, 'frames')]
    whole = run_here(*flags, '--output', 'whole.mp4', cwd=tmp_path)
    assert whole.returncode == 0, whole.stderr

    stopped = tmp_path / 'stopped-frames'
    command = [sys.executable, RUN_ART] + flags + ['--output', 'stopped.mp4']
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    with running(command, cwd=str(tmp_path), env=env, stdout=subprocess.PIPE,
                 stderr=subprocess.PIPE, text=True) as process:
        deadline = time.time() + 240
        while recorded_frames(tmp_path / 'stopped.json') < 2:
            assert process.poll() is None and time.time() < deadline, process.stderr.read()
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        said, error = process.communicate(timeout=120)
    assert process.returncode == 130, error
    assert 'run the same command again to go on' in said.strip().splitlines()[-1]
    record = json.loads((tmp_path / 'stopped.json').read_text())
    kept = len(record['frames'])
    assert record['outcome']['status'] == 'interrupted' and 2 <= kept < FRAMES
    assert not (tmp_path / 'stopped.mp4').exists()
    # The frames the record lists are kept as they are (one written after it is not).
    before = {index: os.stat(video.frame_path(str(stopped), index)).st_mtime_ns
              for index in range(kept)}

    again = run_here(*flags, '--output', 'stopped.mp4', cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert 'going on from frame %d' % (kept + 1) in again.stdout
    assert all(os.stat(video.frame_path(str(stopped), index)).st_mtime_ns == stamp
               for index, stamp in before.items())
    for index in range(FRAMES):
        assert np.array_equal(files.read_rgb(video.frame_path(str(stopped), index)),
                              files.read_rgb(video.frame_path(str(tmp_path / 'whole-frames'),
                                                              index))), index
    assert video.probe(str(tmp_path / 'stopped.mp4')).frames == FRAMES

    changed = run_here(*flags, '--output', 'stopped.mp4', '--temporal-weight', 5, cwd=tmp_path)
    one_line_error(changed, 'stopped.json was painted with other settings', 'temporal_weight')
    one_line_error(run_here('--verify', 'stopped.json', cwd=tmp_path), 'the record of a clip')


@pytest.mark.parametrize('content, extra, fragments', [
    ('notes.mp4', [], ['notes.mp4: not a video ffmpeg can read']),
    ('empty', [], ['a folder with no numbered frames']),
    ('clip.mp4', ['--frames', '5:9'], ['--frames 5:9', 'has 6 frames']),
    ('clip.mp4', ['--frames', '5:2'], ['FIRST <= LAST']),
    ('clip.mp4', ['--output', 'out.png'], ['a clip paints into a video']),
    ('clip.mp4', ['--output', '{clip}/clip.mp4'], ['is the content image']),
    ('frames', ['--output', '{clip}/frames'], ['is in the content folder']),
    ('clip.mp4', ['--scales', '0.5', '1'], ['--scales is for pictures']),
])
def test_bad_clip_input_is_one_line_and_touches_nothing(tmp_path, clip_files, synthetic_files,
                                                        content, extra, fragments):
    (tmp_path / 'notes.mp4').write_text('not a video')
    (tmp_path / 'empty').mkdir()
    source = tmp_path / content if content in ('notes.mp4', 'empty') else clip_files / content
    flags = clip_flags(clip_files, synthetic_files)
    flags[1] = source
    before = snapshot(tmp_path), snapshot(clip_files)
    result = run_here(*flags, *[str(flag).format(clip=clip_files) for flag in extra] or
                     ['--output', 'out.mp4'], cwd=tmp_path)
    one_line_error(result, *fragments)
    assert (snapshot(tmp_path), snapshot(clip_files)) == before


def test_a_clip_is_a_job_of_a_batch(tmp_path, clip_files, synthetic_files, capsys):
    """A JOBS line naming a clip paints its video (NAME.mp4) beside the pictures' files; on
    --ray a clip given as a folder is refused before any work (a node has no folder)."""
    jobs = tmp_path / 'jobs.jsonl'
    jobs.write_text('\n'.join(json.dumps(line) for line in (
        {'name': 'moving', 'content': str(clip_files / 'clip.mp4')}, {'name': 'still'})))
    flags = [str(flag) for flag in clip_flags(clip_files, synthetic_files)[2:]]
    assert art.app.cli.main(['--batch', str(jobs), '--out-dir', str(tmp_path / 'out')]
                            + flags) == 0
    assert video.probe(str(tmp_path / 'out' / 'moving.mp4')).frames == FRAMES
    assert os.path.exists(tmp_path / 'out' / 'still.png')
    assert os.path.exists(tmp_path / 'out' / 'grid.png')
    (tmp_path / 'folder.jsonl').write_text(json.dumps(
        {'name': 'frames', 'content': str(clip_files / 'frames')}))
    code = art.app.cli.main(['--batch', str(tmp_path / 'folder.jsonl'), '--out-dir',
                             str(tmp_path / 'ray'), '--ray', '127.0.0.1:1'] + flags)
    assert code == 2
    assert 'is a folder of frames, which is not sent to a Ray node' in capsys.readouterr().err


def test_a_clips_settings_resolve_from_the_clip(clip_files):
    """Unless given: the clip's own width where narrower than art.py's 800 (its aspect ratio
    kept), seed 0, and half of --iterations for each later frame."""
    job = resolve({'content': str(clip_files / 'clip.mp4'), 'iterations': 8})
    assert (job.width, job.height, job.seed, job.frame_iterations) == (128, 96, 0, 4)
    assert job.output.endswith('art.mp4') and job.frames_folder.endswith('art-frames')
    assert resolve({'content': str(clip_files / 'clip.mp4'), 'frames': (2, None)}).frames == (2, 6)
    with pytest.raises(JobError, match='--frames is for a clip'):
        resolve({'content': str(clip_files / 'style.png'), 'frames': (1, 2)})


def test_a_clip_without_opencv_says_what_to_install(tmp_path, clip_files, synthetic_files,
                                                    monkeypatch, capsys):
    for module in ('art.app.clip_run', 'art.app.flow_cache', 'art.engine.clip',
                   'art.engine.flow'):
        monkeypatch.delitem(sys.modules, module, raising=False)
        package, name = module.rsplit('.', 1)  # else `from package import name` finds it
        monkeypatch.delattr(sys.modules[package], name, raising=False)
    monkeypatch.setitem(sys.modules, 'cv2', None)  # import cv2 raises ImportError
    flags = [str(flag) for flag in clip_flags(clip_files, synthetic_files)]
    assert art.app.cli.main(flags + ['--output', str(tmp_path / 'out.mp4')]) == 2
    assert capsys.readouterr().err.strip() == (
        "run_art.py: error: painting a clip needs cv2: pip install -e '.[video]'")
