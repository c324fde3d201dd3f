"""A clip painted frame by frame without flicker (Ruder, Dosovitskiy and Brox, arXiv
1604.08610): each frame starts from the previous painting warped along the optical flow
(where the flow is trusted; the content mix elsewhere), and a temporal term
(art.engine.terms.TemporalTerm) holds the trusted pixels where the flow carried them.
From arrays to arrays: frames in network space in, Iterates and paintings out.
"""
import numpy as np

from art.constants import NOISE_RATIO
from art.engine import flow
from art.engine.optimizers import optimize
from art.engine.stylize import evaluator
from art.engine.terms import TemporalTerm, standard_objective
from art.io import images


def carried(painting, flows):
    """(the previous `painting` warped to this frame, the consistency weights c) from the
    frame pair's (forward, backward) flows."""
    forward, backward = flows
    return (flow.warp(painting[0], backward)[None],
            flow.consistency_weights(forward, backward))


def frame_start(content, previous, flows, frame_init, noise_ratio, seed):
    """(where a frame's optimizer starts, (warped, c) or None): art.py's noise/content mix,
    or with 'warped' the previous painting carried along the flow where c is 1 and the
    mix where it is 0."""
    mix = images.generate_noise_image(content, noise_ratio, seed)
    if previous is None:
        return mix, None
    warped, consistency = carried(previous, flows)
    if frame_init == 'mix':
        return mix, (warped, consistency)
    weights = consistency[None, :, :, None]
    return (weights * warped + (1 - weights) * mix).astype(np.float32), (warped, consistency)


class FramePainter:
    """Paints a clip's frames in turn, its style targets captured with the first frame
    painted and kept for the others (one evaluator per frame: the content and the
    temporal term's constants are each frame's own).

    Frame `first` of a run starts from art.py's mix and runs `iterations` when it is
    the clip's first (`previous` None), else like every later frame: `frame_iterations`
    from `frame_init`, with the temporal term at `temporal_weight` (0: frames painted
    independently). The other options are stylize's (`tile`, `optimizer_options`,
    `configs`, `optimizer`, an objective's options).
    """

    def __init__(self, weights, styles, *, iterations, frame_iterations, temporal_weight,
                 frame_init='warped', noise_ratio=NOISE_RATIO, seed=None, tile=None,
                 optimizer_options=None, **options):
        self.weights, self.styles, self.tile = weights, styles, tile
        self.iterations, self.frame_iterations = iterations, frame_iterations
        self.temporal_weight, self.frame_init = temporal_weight, frame_init
        self.noise_ratio, self.seed = noise_ratio, seed
        self.optimizer_options = optimizer_options or {}
        self.objective_options = {key: options.pop(key) for key in list(options)
                                  if key not in ('configs', 'optimizer', 'pooling',
                                                 'learning_rate')}
        self.options = options
        self.kept = None

    def iterations_of(self, previous):
        """The iteration count of a frame: the first's, or a later one's."""
        return self.iterations if previous is None else self.frame_iterations

    def paint(self, content, previous=None, flows=None, start=None):
        """Yield the Iterates of one frame (network space), `previous` being the frame
        before's painting (None for the clip's first) and `flows` the pair's (forward,
        backward) flows. `start` replaces the first frame's mix (art.py's --init)."""
        mixed, temporal = frame_start(content, previous, flows, self.frame_init,
                                      self.noise_ratio, self.seed)
        start = mixed if start is None else start
        extra = [(TemporalTerm(*temporal), self.temporal_weight)] \
            if temporal is not None and self.temporal_weight else []
        objective = standard_objective(terms=extra, **self.objective_options)
        with evaluator(self.weights, content, self.styles, self.tile, objective=objective,
                       kept_targets=self.kept, **self.options) as painting:
            self.kept = painting.style_targets_kept()
            yield from optimize(painting, start, self.iterations_of(previous),
                                **self.optimizer_options)


def paint_clip(weights, frames, styles, *, flows, first=0, previous=None, **options):
    """Yield (index, painting) of each of `frames` (network space, one size) in turn, the
    first being frame `first` of the clip; `flows(index)` gives (forward, backward)
    between frames index - 1 and index, `previous` frame first - 1's painting when the
    clip goes on from there; `options` are FramePainter's.

    Each painting is carried on as its saved picture is (rounded to levels), so that a
    clip resumed from its saved frames paints what an uninterrupted run does.
    """
    painter = FramePainter(weights, styles, **options)
    for index, content in enumerate(frames, first):
        last = None
        for last in painter.paint(content, previous, flows(index) if previous is not None
                                  else None):
            pass
        previous = as_saved(last.image)
        yield index, previous


def as_saved(image):
    """A painting as its saved picture holds it: rounded to levels, back in network space."""
    pixels = images.to_pixels(image)
    return images.preprocess(pixels, *pixels.shape[:2])
