"""Flags to a Job: `resolve(settings)` fills in what the inputs decide (the example
pictures, art.py's size or a side following the content's aspect ratio, the layers with
their weights, a seed drawn and recorded, where the output goes); the Job (art.app.job)
derives the rest and validates the whole."""
import os

from art import examples
from art.app.job import Job, JobError
from art.app.settings import DEFAULT_CLIP_OUTPUT, DEFAULT_OUTPUT
from art.constants import CONTENT_LAYERS, IMAGE_HEIGHT, IMAGE_WIDTH, STYLE_LAYERS
from art.io import video
from art.io.files import picture_size


def target_size(width, height, content_size):
    """(height, width): as given, or art.py's 800x600, one side following the other's aspect."""
    content_height, content_width = content_size
    if width and height:
        return height, width
    if width:
        return max(1, round(width * content_height / content_width)), width
    if height:
        return height, max(1, round(height * content_width / content_height))
    return IMAGE_HEIGHT, IMAGE_WIDTH


def layers(content_layers=None, style_layers=None, style_layer_weights=None,
           content_weight_blend=None):
    """(content, style) (layer, weight) pairs from the layer flags: art.py's by default."""
    content_names = content_layers or [name for name, _ in CONTENT_LAYERS]
    if content_weight_blend is None:
        content = [(name, 1.0) for name in content_names]
    else:
        if not content_layers:
            content_names = ['conv4_2', 'conv5_2']
        if len(content_names) != 2:
            raise JobError('--content-weight-blend splits between two content layers; '
                           '--content-layers names %d' % len(content_names))
        content = [(content_names[0], content_weight_blend),
                   (content_names[1], 1.0 - content_weight_blend)]
    if style_layers:
        names, weights = style_layers, style_layer_weights or [1.0] * len(style_layers)
    else:
        names = [name for name, _ in STYLE_LAYERS]
        weights = style_layer_weights or [weight for _, weight in STYLE_LAYERS]
    if len(weights) != len(names):
        raise JobError('--style-layer-weights gives %d weights for %d style layers'
                       % (len(weights), len(names)))
    return tuple(content), tuple(zip(names, weights))


def random_seed():
    """A seed for a run that gave none: drawn from the system, then recorded."""
    return int.from_bytes(os.urandom(4), 'little') >> 1


def resolve(settings):
    """A Job from command-line settings (flag names with underscores, None where not given).

    Reads the content image's header (a clip's first frame) for its aspect ratio when
    a side is left to follow it; raises JobError, ImageError or VideoError. A clip's
    seed is 0 unless given, so that the same command goes on with an interrupted clip.
    """
    given = {name: value for name, value in settings.items() if value is not None}
    content = given.pop('content', examples.CONTENT)
    style = tuple(given.pop('style', (examples.STYLE,)))
    clip = video.probe(content) if video.is_clip(content) else None
    width, height = given.pop('width', None), given.pop('height', None)
    if clip and not (width or height):
        # A clip keeps its aspect ratio: art.py's width, or the clip's own if narrower.
        width = min(IMAGE_WIDTH, clip.size[1])
    height, width = target_size(width, height, clip.size if clip else picture_size(content))
    if clip and given.get('frames'):
        first, last = given.pop('frames')
        given['frames'] = (first, clip.frames if last is None else last)
    content_layers, style_layers = layers(
        given.pop('content_layers', None), given.pop('style_layers', None),
        given.pop('style_layer_weights', None), given.pop('content_weight_blend', None))
    seed = given.pop('seed', None)
    return Job(content=content, style=style, width=width, height=height,
               output=given.pop('output', DEFAULT_CLIP_OUTPUT if clip else DEFAULT_OUTPUT),
               seed=(0 if clip else random_seed()) if seed is None else seed,
               content_layers=content_layers, style_layers=style_layers, **given)
