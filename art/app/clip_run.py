"""A Job whose content is a clip (Job.is_clip) painted frame by frame into its frames
folder, each frame written as it is done and the clip's record (OUTPUT.json) with it;
the same command run again goes on from the first frame not done. Then the frames
become the video at the clip's frame rate, with its sound.

Data flows one way: the clip's frames (art.io.video) at the painting's size -> their
optical flows (art.app.flow_cache) -> the engine's frames (art.engine.clip) -> frame
files, the record and the video.
"""
import json
import os
import tempfile
import time

import numpy as np
from tqdm import tqdm

from art.app.board import jpeg, painting_values
from art.app.errors import EXIT_FAILED, STOPS, UsageError, ending_of
from art.app.flow_cache import FlowCache
from art.app.settings import PICTURES
from art.app.progress import downloads, saved_checkpoint
from art.app.record import (RecordError, group_losses, read_record, trajectory_columns,
                            trajectory_row, write_record)
from art.engine import stylize
from art.engine.clip import FramePainter, as_saved, carried
from art.engine.optimizers import NonFiniteLoss
from art.io import colors, files, images, video


def frame_range(job, clip):
    """(first, last) frame indices (0-based, inclusive) the Job paints of `clip`."""
    return (job.frames[0] - 1, job.frames[1] - 1) if job.frames else (0, clip.frames - 1)


def frames_done(job, inputs):
    """The per-frame outcomes of an earlier run of the same Job at its record path (none
    without one); UsageError when that run had other settings or `inputs` (the record's
    description of them) other checksums."""
    try:
        earlier = read_record(job.record_path)
    except RecordError:
        return []
    settings = json.loads(json.dumps(job.to_dict()))  # tuples as the record's lists
    changed = sorted(key for key in set(earlier['job']) | set(settings)
                     if earlier['job'].get(key) != settings.get(key))
    changed += [name for name in PICTURES if _checksums(earlier['inputs'].get(name))
                != _checksums(inputs.get(name))]
    if changed:
        raise UsageError('%s was painted with other settings or inputs (%s); give another '
                         '--output, or delete it to start again'
                         % (job.record_path, ', '.join(changed)))
    return list(earlier.get('frames', []))


def _checksums(described):
    """The SHA-256s of a record's input entry (one file or a list)."""
    if described is None:
        return None
    return [entry['sha256'] for entry in (described if isinstance(described, list)
                                          else [described])]


def network_frame(job, pixels):
    """A frame (uint8 RGB at the painting's size) as the network sees it: under
    --color-control luminance its luminance, as the content's is."""
    content, _ = colors.controlled(pixels, [], job.color_control, job.color_match)
    return images.preprocess(content, *job.size)


def temporal_error(painting, warped, consistency):
    """Mean over the trusted pixels of |painting - warped painting before| in levels."""
    difference = np.abs(images.to_pixels(painting).astype(float)
                        - images.to_pixels(warped).astype(float)).mean(axis=2)
    trusted = consistency == 1
    return float(difference[trusted].mean()) if trusted.any() else None


class ClipProgress:
    """A clip's progress on disk and on screen: the frames bar, each frame's bar inside
    it, each frame written with its line in the record."""

    def __init__(self, job, record, say, done, count, board):
        self.job, self.record, self.say, self.board = job, record, say, board
        self.record['frames'] = done
        self.count, self.index, self.frame, self.began = count, None, None, time.time()
        self.bar = tqdm(total=count, initial=len(done), unit='frame', desc='frames',
                        disable=None)
        self.frame_bar = None
        self.finish_outcome('running')

    def begin(self, index, iterations, frame):
        """Start frame `index` (uint8 RGB `frame` at the painting's size)."""
        self.frame_bar = tqdm(total=iterations, unit='it', desc='frame %d' % (index + 1),
                              leave=False, disable=None)
        self.index, self.frame, self.began = index, frame, time.time()
        self.board.begin_painting(**painting_values(self.job, self.record, 'frame %d of %s' % (
            index + 1, os.path.basename(self.job.content)), iterations))

    def add(self, iterate):
        """Show an iterate of the frame; write it as a checkpoint, listed in the record, when
        Save now was asked."""
        if iterate.iteration:
            with files.signals_deferred():  # a stop raised inside tqdm's locks breaks them
                self.frame_bar.update(1)
                self.frame_bar.set_postfix(total='%.4g' % iterate.total_loss)
        row = trajectory_row(trajectory_columns(iterate.groups), iterate,
                             time.time() - self.began)
        self.board.add_row(row, lambda: jpeg(self.job.picture(iterate.image, self.frame)),
                           precision=iterate.precision)
        if self.board.take_save():
            path = self.job.beside_output('frame%d-%d' % (self.index + 1, iterate.iteration),
                                          '.png')
            self.record['checkpoints'].append(saved_checkpoint(
                path, self.job.picture(iterate.image, self.frame), row, frame=self.index + 1))
            write_record(self.job.record_path, self.record)
            self.say('frame %d, iteration %d -> %s (Save now, from the page)' % (
                self.index + 1, iterate.iteration, path))

    def frame_done(self, index, last, seconds, flicker):
        """Record frame `index`'s outcome (its file already written)."""
        self.frame_bar.close()
        self.record['frames'].append({
            'frame': index + 1, 'iterations': last.iteration, 'evaluations': last.evaluations,
            'seconds': round(seconds, 3), **group_losses(last), 'temporal_error': flicker,
            'sha256': files.file_sha256(video.frame_path(self.job.frames_folder, index))})
        self.finish_outcome('running')
        self.bar.update(1)

    def finish_outcome(self, status, reason=None):
        """The record's outcome over the frames so far, written."""
        frames = self.record['frames']
        self.record['outcome'].update(
            status=status, reason=reason, frames=len(frames),
            iterations=sum(frame['iterations'] for frame in frames),
            evaluations=sum(frame['evaluations'] for frame in frames),
            seconds=round(sum(frame['seconds'] for frame in frames), 3))
        write_record(self.job.record_path, self.record)
        self.board.update_run(frames={'done': len(frames), 'total': self.count,
                                      'seconds': self.record['outcome']['seconds']})
        if status != 'running':
            self.board.end(status, reason, downloads(self.job.output, self.job.record_path))

    def close(self):
        if self.frame_bar is not None:
            self.frame_bar.close()
        self.bar.close()


def resized_frames(job, clip, first, last):
    """Yield (index, frame at the painting's size, uint8 RGB) of frames first..last."""
    for index, pixels in video.read_frames(clip, first, last):
        yield index, np.clip(np.rint(images.resize_rgb(pixels, *job.size)), 0,
                             255).astype(np.uint8)


def painter_of(job, prepared, configs):
    """The FramePainter of the Job: its styles (colour-controlled against the first frame
    painted, for the whole clip) and its settings."""
    _, styles = stylize.network_images(job, prepared.pictures, job.size)
    return FramePainter(
        prepared.weights, styles, iterations=job.iterations,
        frame_iterations=job.frame_iterations, temporal_weight=job.temporal_weight,
        frame_init=job.frame_init, noise_ratio=job.noise_ratio, seed=job.seed,
        tile=prepared.tiles.get(tuple(job.size)), optimizer_options=job.optimizer_options(),
        configs=configs,
        **stylize.painting_options(job, prepared.pictures, job.size))


def paint_frames(job, clip, prepared, configs, progress, first, last):
    """Paint frames of `clip` from the first not done to `last`, each written as it is done."""
    start = first + len(progress.record['frames'])
    painter = painter_of(job, prepared, configs)
    cache = FlowCache(job.cache_path)
    previous = cache.painting(start - 1) if start > first else None
    before = None
    for index, pixels in resized_frames(job, clip, max(first, start - 1), last):
        if index < start:
            before = pixels
            continue
        began = time.time()
        content = network_frame(job, pixels)
        flows = cache.flows(index, before, pixels) if previous is not None else None
        initial = images.initial_image(job.init, content, job.noise_ratio, job.seed) \
            if previous is None else None
        progress.begin(index, painter.iterations_of(previous), pixels)
        last_iterate = None
        for last_iterate in painter.paint(content, previous, flows, start=initial):
            progress.add(last_iterate)
        painting = as_saved(last_iterate.image)
        video.write_frame(job.frames_folder, index, job.picture(painting, pixels))
        cache.keep_painting(index, images.to_pixels(painting))
        progress.frame_done(index, last_iterate, time.time() - began,
                            None if flows is None else temporal_error(
                                painting, *carried(previous, flows)))
        previous, before = painting, pixels


def assemble(job, clip, first, last):
    """The painted frames as the video OUTPUT (when it names one), at the clip's frame rate,
    with the stretch of its sound they show; the words for what was written (a padded size
    said). WriteError, naming where the frames are, when it cannot be."""
    if job.output == job.frames_folder:
        return job.frames_folder
    frames = (files.read_rgb(video.frame_path(job.frames_folder, index))
              for index in range(first, last + 1))
    written = []
    try:
        with tempfile.TemporaryDirectory(dir=os.path.dirname(job.output)) as scratch:
            sound = None
            if clip.audio:
                sound = (clip.path if (first, last) == (0, clip.frames - 1) else video.cut_audio(
                    clip.path, first, last - first + 1, clip.fps, os.path.join(scratch, 'a.mka')))
            files.write_atomic(job.output, lambda partial: written.append(video.write_video(
                partial, frames, clip.fps, audio_from=sound)))
    except files.WriteError as error:
        raise files.WriteError(job.output, '%s; the painted frames are in %s' % (
            error.reason, job.frames_folder), 'the video') from None
    height, width = written[0]
    padded = (height, width) != (job.height, job.width)
    return '%s and %s%s' % (job.frames_folder, job.output, ' (%dx%d, padded to %dx%d: a '
                            "video's sides are even)" % (job.width, job.height, width, height)
                            if padded else '')


def paint_clip_job(job, prepared, configs, record, done, say, board):
    """Paint the clip of `job` (its record `record` just made), going on after the frames
    `done` (frames_done's) of an earlier run, shown on `board` (art.app.board); the exit
    code."""
    clip = video.probe(job.content)
    first, last = frame_range(job, clip)
    os.makedirs(job.frames_folder, exist_ok=True)
    progress = ClipProgress(job, record, say, done, last - first + 1, board)
    if len(done) == last - first + 1:
        say('all %d frames were painted earlier in %s' % (len(done), job.frames_folder))
    elif done:
        say('going on from frame %d: %d of %d frames painted earlier in %s' % (
            first + len(done) + 1, len(done), last - first + 1, job.frames_folder))
    try:
        paint_frames(job, clip, prepared, configs, progress, first, last)
        progress.close()
        written = assemble(job, clip, first, last)
    except NonFiniteLoss as error:
        progress.close()
        return _ended(progress, EXIT_FAILED, 'failed', 'error: %s at frame %d' % (
            error, first + len(progress.record['frames']) + 1))
    except STOPS + (Exception,) as stop:  # pylint: disable=broad-except
        progress.close()
        code, status, reason = ending_of(stop)
        if isinstance(stop, STOPS):
            reason += '; %d of %d frames painted in %s: run the same command again to go on' % (
                len(progress.record['frames']), last - first + 1, job.frames_folder)
        _ended(progress, code, status, reason)
        if not isinstance(stop, STOPS):
            raise
        return code
    progress.finish_outcome('done')
    say('painted %d frames into %s' % (last - first + 1, written))
    return 0


def _ended(progress, code, status, reason):
    progress.finish_outcome(status, reason)
    progress.say(reason)
    return code
