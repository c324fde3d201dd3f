"""A clip painted to a folder of frames, each written as it is done, with a record of the
clip (FOLDER.json beside the folder) that a rerun of the same settings goes on from;
then the frames assembled into a video at the clip's frame rate, with its sound.

The command line's video flags are not wired to this yet; `paint_clip_job` takes the
settings as arguments.
"""
import json
import os

from art.app.flow_cache import FlowCache
from art.engine.clip import paint_clip
from art.io import files, images, video


class ClipError(ValueError):
    """A clip that cannot be painted as asked; the message says why."""


def clip_settings(clip, styles, **settings):
    """What a clip's record holds to tell a rerun of the same job from another."""
    return dict(settings, content=os.path.abspath(clip.path), frames=clip.frames,
                fps=clip.fps, styles=[files.file_sha256(path) for path in styles])


def read_clip_record(path, settings):
    """The frames a record at `path` says are done; ClipError when its settings differ."""
    if not os.path.exists(path):
        return []
    with open(path, encoding='utf-8') as handle:
        record = json.load(handle)
    if record['settings'] != settings:
        changed = sorted(key for key in set(settings) | set(record['settings'])
                         if settings.get(key) != record['settings'].get(key))
        raise ClipError('%s was painted with other settings (%s); give another output, or '
                        'delete it to start again' % (path, ', '.join(changed)))
    return record['done']


def paint_clip_job(weights, content, styles, out_folder, *, iterations, frame_iterations,
                   temporal_weight, seed=0, **objective_options):
    """Paint the clip `content` into `out_folder` (frame00001.png, ...), going on from the
    first frame not done; the number of frames painted by this call."""
    clip = video.probe(content)
    settings = clip_settings(clip, styles, iterations=iterations,
                             frame_iterations=frame_iterations,
                             temporal_weight=temporal_weight, seed=seed, **objective_options)
    record_path = out_folder.rstrip(os.sep) + '.json'
    done = read_clip_record(record_path, settings)
    first = len(done)
    if first == clip.frames:
        return 0
    height, width = clip.size
    style_images = [images.load_image(path, height, width) for path in styles]
    pixels = {}

    def frame(index):
        if index not in pixels:
            pixels[index] = next(video.read_frames(clip, index, index))[1]
        return pixels[index]

    os.makedirs(out_folder, exist_ok=True)
    cache = FlowCache(out_folder + '-flows')
    previous = None if first == 0 else images.preprocess(
        files.read_rgb(video.frame_path(out_folder, first - 1)), height, width)
    contents = (images.preprocess(frame(index), height, width)
                for index in range(first, clip.frames))
    painted = 0
    for index, image in paint_clip(
            weights, contents, style_images, iterations=iterations,
            frame_iterations=frame_iterations, temporal_weight=temporal_weight, seed=seed,
            flows=lambda index: cache.flows(index, frame(index - 1), frame(index)),
            first=first, previous=previous, **objective_options):
        video.write_frame(out_folder, index, images.to_pixels(image))
        done.append(index)
        files.write_text(record_path, json.dumps({'settings': settings, 'done': done},
                                                 indent=1))
        painted += 1
    return painted


def assemble(clip_path, out_folder, output):
    """The painted frames of `out_folder` as the video `output`, at the clip's frame rate,
    with the clip's audio copied when it has some."""
    clip = video.probe(clip_path)
    painted = video.probe(out_folder)
    if painted.frames != clip.frames:
        raise ClipError('%s holds %d of the clip\'s %d frames; paint the rest first'
                        % (out_folder, painted.frames, clip.frames))
    video.write_video(output, (frame for _, frame in video.read_frames(painted)), clip.fps,
                      audio_from=clip.path if clip.audio else None)
