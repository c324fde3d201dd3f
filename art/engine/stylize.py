"""The engine: a painting as a generator of Iterates, from arrays to arrays.

`stylize` is art.py's main block for images already in network space.
`paint` runs a Job on its pictures (uint8 RGB, art.app.runner.Pictures) already read: it prepares the
images at each of the Job's scales, smallest first, starts from art.py's
noise/content mix made at the first size, and carries each result up to
the next size.
"""
import numpy as np

from art.io import colors, images
from art.constants import FINISH_PRECISION, FLAT_WINDOW, NOISE_RATIO
from art.engine.optimizers import counted_after, optimize
from art.engine.painting import Painting
from art.engine.tiling import TiledPainting


def stylize(weights, content_image, style_image, iterations, optimizer='lbfgs',
            initial_image=None, noise_ratio=NOISE_RATIO, seed=None, max_evaluations=None,
            tile=None, optimizer_options=None, min_progress=None, **painting_options):
    """Paint content_image in the style of style_image, yielding each Iterate.

    Images are (1, H, W, 3) float32 in network space (see `load_image`);
    `style_image` may be a list. The start is `initial_image`, or art.py's
    noise/content mix. Iterate 0 is the start; the last is the result.
    `optimizer_options` go to the optimizer (art.engine.optimizers.lbfgs's keyword-only
    options: pixel_bounds, lbfgs_history). With `min_progress`, it ends once the loss has
    stopped moving (until_flat). With `tile`, the network
    is evaluated on tiles of that size (art.engine.tiling), with the same numbers.
    `painting_options` go to Painting or TiledPainting (an objective or its
    options: layers, content_weight/style_weight, style_blend_weights,
    tv_weight, terms; pooling, learning_rate, configs: a painting whose first
    config is not float32's finishes in float32).
    """
    if initial_image is None:
        initial_image = images.generate_noise_image(content_image, noise_ratio, seed)
    with evaluator(weights, content_image, style_image, tile, optimizer=optimizer,
                   **painting_options) as painting:
        yield from until_flat(optimize(painting, initial_image, iterations,
                                       max_evaluations=max_evaluations,
                                       **(optimizer_options or {})), min_progress)


def until_flat(iterates, min_progress, window=FLAT_WINDOW):
    """`iterates` until a float32-evaluated one's total loss is less than `min_progress` of
    itself below the one `window` iterations before it (None: all of them). The painting's
    look stops moving well before its loss does (bench/RESULTS.md, "Where a painting's look
    stops moving"); a bfloat16 bulk is never ended, so its float32 finish is kept."""
    totals = {}
    for iterate in iterates:
        yield iterate
        if min_progress is None or iterate.precision != FINISH_PRECISION:
            continue
        totals[iterate.iteration] = iterate.total_loss
        before = totals.pop(iterate.iteration - window, None)
        if before is not None and before - iterate.total_loss < min_progress * iterate.total_loss:
            iterates.close()
            return


def evaluator(weights, content_image, style_image, tile=None, **painting_options):
    """The painting's evaluator: on tiles of `tile` pixels (art.engine.tiling), or untiled."""
    if tile:
        return TiledPainting(weights, content_image, style_image, tile, **painting_options)
    return Painting(weights, content_image, style_image, **painting_options)


def network_images(job, pictures, size):
    """(content, styles) of the Job in network space for a painting of `size`, as its
    --color-control has them seen."""
    content, styles = colors.controlled(pictures.content, pictures.styles, job.color_control,
                                        job.color_match)
    return (images.preprocess(content, *size),
            [images.preprocess(pixels, *job.style_size(size)) for pixels in styles])


def painting_options(job, pictures, size):
    """The Painting's options for the Job at `size`: its settings, and its masks resized
    to the painting (and each style image mask to its style image)."""
    options = job.painting_options()
    if pictures.masks:
        style_size = job.style_size(size)
        options.update(
            style_masks=[images.resize_mask(mask, *size) for mask in pictures.masks],
            style_image_masks=[images.resize_mask(mask, *style_size)
                               for mask in pictures.image_masks] or None)
    return options


def starting_image(job, pictures, content):
    """Where the Job's optimizer starts, for `content` (network space) at its size:
    the Job's --init, with its seed (a given image in luminance under --color-control
    luminance, as the content is)."""
    size = np.shape(content)[1:3]
    given = None
    if pictures.init is not None:
        init = pictures.init
        if job.color_control == 'luminance':
            init = colors.gray(colors.luminance(init))
        given = images.preprocess(init, *size)
    return images.initial_image(job.init, content, job.noise_ratio, job.seed, given)


def paint(job, weights, pictures, configs=None, tiles=None):
    """Yield the Iterates of a Job's painting, over its scales in turn.

    Each size has a graph of its own; the result of one size, resized
    (bicubic), starts the next. Iterations and evaluations count on across
    sizes; a size's iteration 0 (the previous result, resized) is not
    yielded again. `configs` are the sessions' (art.engine.painting.session_configs);
    `tiles` maps a size to its tile (art.app.runner.choose_tiles), None untiled.
    """
    start, done = None, None
    for size in job.sizes():
        content, styles = network_images(job, pictures, size)
        if start is None:
            start = starting_image(job, pictures, content)
        elif np.shape(start)[1:3] != tuple(size):
            start = images.resize_image(start, *size)
        run = stylize(weights, content, styles, job.iterations, initial_image=start,
                      optimizer_options=job.optimizer_options(), configs=configs,
                      min_progress=job.min_progress,
                      tile=(tiles or {}).get(tuple(size)),
                      **painting_options(job, pictures, size))
        for iterate in counted_after(run, done):
            yield iterate
            last = iterate
        start, done = last.image, last
