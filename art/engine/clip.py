"""A clip painted frame by frame without flicker (Ruder, Dosovitskiy and Brox, arXiv
1604.08610): each frame starts from the previous painting warped along the optical flow
(where the flow is trusted; the content mix elsewhere), and a temporal term
(art.engine.terms.TemporalTerm) holds the trusted pixels where the flow carried them.
From arrays to arrays: frames in network space in, paintings out.
"""
import numpy as np

from art.engine import flow
from art.engine.stylize import stylize
from art.engine.terms import TemporalTerm, standard_objective
from art.io import images

FRAME_INITS = ('warped', 'mix')


def carried(painting, flows):
    """(the previous `painting` warped to this frame, the consistency weights c) from the
    frame pair's (forward, backward) flows."""
    forward, backward = flows
    return (flow.warp(painting[0], backward)[None],
            flow.consistency_weights(forward, backward))


def frame_start(content, previous, flows, frame_init, noise_ratio, seed):
    """Where a frame's optimizer starts: art.py's noise/content mix, or with 'warped' the
    previous painting carried along the flow where c is 1 and the mix where it is 0."""
    mix = images.generate_noise_image(content, noise_ratio, seed)
    if previous is None or frame_init == 'mix':
        return mix, None
    warped, consistency = carried(previous, flows)
    weights = consistency[None, :, :, None]
    return (weights * warped + (1 - weights) * mix).astype(np.float32), (warped, consistency)


def paint_clip(weights, frames, styles, *, iterations, frame_iterations, temporal_weight,
               flows, frame_init='warped', noise_ratio=0.6, seed=0, first=0, previous=None,
               **objective_options):
    """Yield (index, painting) of each of `frames` (network space, one size) in turn, the
    first being frame `first` of the clip.

    `flows(index)` gives (forward, backward) between frame index - 1 and frame index
    (pixels, art.engine.flow). Frame 0 runs `iterations`, the others `frame_iterations`;
    with `temporal_weight` 0 the frames are painted independently (from the warped
    previous painting or not, as `frame_init` says). `previous` is frame first - 1's
    painting when the clip goes on from there. Each painting is carried on as its saved
    picture is (rounded to levels), so that a clip resumed from its saved frames paints
    what an uninterrupted run does.
    """
    for index, content in enumerate(frames, first):
        start, temporal = frame_start(content, previous, flows(index) if index else None,
                                      frame_init, noise_ratio, seed)
        extra = [(TemporalTerm(*temporal), temporal_weight)] \
            if temporal is not None and temporal_weight else []
        objective = standard_objective(terms=extra, **objective_options)
        last = None
        for last in stylize(weights, content, styles, iterations if index == 0
                            else frame_iterations, initial_image=start, objective=objective):
            pass
        previous = as_saved(last.image)
        yield index, previous


def as_saved(image):
    """A painting as its saved picture holds it: rounded to levels, back in network space."""
    pixels = images.to_pixels(image)
    return images.preprocess(pixels, *pixels.shape[:2])
