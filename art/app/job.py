"""The Job: one painting's every setting, resolved and validated. No TensorFlow here.

Everything downstream (the engine, the run's files, its record, replay and
verify) receives a Job, never the command line's flags. A Job is frozen and
complete: sizes, layers with their weights, the iteration count and the seed
are concrete values, never "default". Its fields are named as the command
line's long flags, with underscores.

Validation happens here and only here:
- `Job(...)` checks the values themselves (ranges, choices, layer names,
  counts) and raises JobError, a ValueError, naming the setting;
- `art.app.job_files.check_files(job)` checks what the Job names on disk
  (inputs readable, outputs writable and never one of the inputs), before
  any slow work.
`art.app.resolving.resolve(settings)` turns flags (None where not given) into a Job.
Style blend weights are kept as given; the engine normalises them.
"""
import dataclasses
import os

import numpy as np

from art.constants import (ART_PY, FRAME_ITERATIONS_SHARE, ITERATIONS, LBFGS_ITERATIONS,
                           OBJECTIVE_WEIGHTS)
from art.app.settings import OPTIMIZER, PICTURES, RESOLVED, SETTING, SETTINGS, flag
from art.engine.costs import lbfgs_history_for
from art.io.files import IMAGE_EXTENSIONS
from art.io import images
from art.io import video
from art.network.layers import deepest_layer
from art.network.sources import NAMED, SYNTHETIC


class JobError(ValueError):
    """A setting that cannot be painted; the message names it and says why."""


def check_number(name, text_or_value):
    """The setting `name` as its type, within its bounds (art.app.settings); ValueError says
    why not. The command line parses its numbers with this, and Job checks its own with it."""
    setting = SETTING[name]
    kind, (minimum, inclusive, maximum) = setting.kind, setting.bounds
    try:
        value = kind(text_or_value)
    except (TypeError, ValueError):
        raise ValueError('%r is not a %s' % (text_or_value, kind.__name__)) from None
    if isinstance(text_or_value, float) and kind is int and value != text_or_value:
        raise ValueError('%r is not a whole number' % (text_or_value,))
    if not np.isfinite(value) or value < minimum or (value == minimum and not inclusive) \
            or (maximum is not None and value > maximum):
        bound = ('>= %s' if inclusive else '> %s') % minimum
        if maximum is not None:
            bound += ' and <= %s' % maximum
        raise ValueError('%s must be %s' % (text_or_value, bound))
    return value


def _layer_pairs(name, pairs):
    """((layer, weight), ...) with checked weights."""
    try:
        return tuple((str(layer), check_number('style_layer_weights', weight))
                     for layer, weight in pairs)
    except (TypeError, ValueError) as error:
        raise JobError('%s: %s' % (flag(name), error)) from None


class JobRules:
    """The Job's checks, derived defaults and what it says about itself; its fields are
    SETTINGS' (see Job below and the module's docstring)."""

    def __post_init__(self):
        def put(name, value):
            object.__setattr__(self, name, value)

        # Paths are kept absolute, so a record names its files from anywhere.
        for name in (setting.name for setting in SETTINGS if setting.metavar == 'PATH'):
            value = getattr(self, name)
            if SETTING[name].plural:
                put(name, tuple(os.path.abspath(path) for path in (
                    [value] if isinstance(value, (str, os.PathLike)) else value)))
            elif value is not None and not (name == 'weights' and value in NAMED):
                put(name, os.path.abspath(value))
        put('weights_md5', tuple(str(md5).lower() for md5 in self.weights_md5))
        for setting in (setting for setting in SETTINGS if setting.job):
            value = getattr(self, setting.name)
            if setting.kind is bool:
                put(setting.name, bool(value))
            elif setting.bounds and value is not None:
                put(setting.name, tuple(self._number(setting.name, item) for item in value)
                    if setting.plural else self._number(setting.name, value))
        # The derived defaults, here for the command line, JOBS lines, art.paint and Job(...).
        for name, weight in OBJECTIVE_WEIGHTS.get(self.objective, {}).items():
            if getattr(self, name) is None:
                put(name, weight)
        if self.iterations is None:
            put('iterations', LBFGS_ITERATIONS if self.optimizer == 'lbfgs' else ITERATIONS)
        if self.frame_iterations is None:
            put('frame_iterations', max(1, round(self.iterations * FRAME_ITERATIONS_SHARE)))
        if self.lbfgs_history is None:
            put('lbfgs_history', lbfgs_history_for(self.height, self.width))
        if self.style_blend_weights is None:
            put('style_blend_weights', (1.0,) * len(self.style))
        put('content_layers', _layer_pairs('content_layers', self.content_layers))
        put('style_layers', _layer_pairs('style_layers', self.style_layers))
        self._check_choices()

    @staticmethod
    def _number(name, value):
        try:
            return check_number(name, value)
        except ValueError as error:
            raise JobError('%s: %s' % (flag(name), error)) from None

    def _check_choices(self):
        for setting in SETTINGS:
            if setting.choices and getattr(self, setting.name) not in setting.choices:
                raise JobError('%s: %r is not one of %s' % (
                    setting.flag, getattr(self, setting.name), ', '.join(setting.choices)))
        if not self.style:
            raise JobError('--style: give at least one style image')
        if not self.content_layers or not self.style_layers:
            raise JobError('--content-layers and --style-layers: give at least one layer each')
        if (self.init == 'image') != (self.init_image is not None):
            raise JobError('--init image needs --init-image PATH' if self.init == 'image'
                           else '--init-image is used with --init image only')
        if len(self.style_blend_weights) != len(self.style):
            raise JobError('--style-blend-weights gives %d weights for %d style images'
                           % (len(self.style_blend_weights), len(self.style)))
        if sum(self.style_blend_weights) <= 0:
            raise JobError('--style-blend-weights are all zero')
        for name in ('style_masks', 'style_image_masks'):
            if getattr(self, name) and len(getattr(self, name)) != len(self.style):
                raise JobError('%s gives %d mask(s) for %d style image(s)' % (
                    flag(name), len(getattr(self, name)), len(self.style)))
        if self.style_image_masks and not self.style_masks:
            raise JobError('--style-image-masks needs --style-masks: a mask per style for '
                           'where it goes in the painting')
        if not self.scales or self.scales[-1] != 1 or list(self.scales) != sorted(set(self.scales)):
            raise JobError('--scales must increase and end at 1 (the output size), e.g. '
                           '0.25 0.5 1')
        try:
            deepest_layer(self.layer_names, self.pooling)
        except ValueError as error:
            raise JobError(str(error)) from None
        self._check_clip()

    def _check_clip(self):
        """A clip's settings go with a clip, and a clip paints into a video or a folder."""
        if not self.is_clip:
            if self.frames:
                raise JobError('--frames is for a clip (a video file or a folder of frames); '
                               '%s is a picture' % self.content)
            if video.is_clip_output(self.output):
                raise JobError('--output %s names a video or a folder; a picture paints into '
                               'an image (%s)' % (self.output, ' '.join(IMAGE_EXTENSIONS)))
            return
        if not video.is_clip_output(self.output):
            raise JobError('--output %s: a clip paints into a video (%s) or a folder of frames '
                           '(a path without extension)' % (self.output,
                                                           ' '.join(video.VIDEO_EXTENSIONS)))
        if len(self.frames) not in (0, 2) or (self.frames and self.frames[0] > self.frames[1]):
            raise JobError('--frames FIRST:LAST counts from 1 with FIRST <= LAST, e.g. 1:48')
        if self.scales != (1.0,):
            raise JobError('--scales is for pictures: a clip paints each frame at its size')
        if self.loss_log:
            raise JobError("--loss-log is for pictures: a clip's record keeps each frame's "
                           'losses')
        if self.init == 'image':
            raise JobError('--init image is for pictures: a clip starts from art.py\'s mix, '
                           'or --init noise or content, and later frames as --frame-init says')

    @property
    def layer_names(self):
        """Every layer a loss uses, content first."""
        return [name for name, _ in self.content_layers + self.style_layers]

    @property
    def last_layer(self):
        """The deepest layer the losses need: the graph stops there."""
        return deepest_layer(self.layer_names, self.pooling)

    @property
    def size(self):
        """(height, width) of the painting."""
        return self.height, self.width

    def sizes(self):
        """(height, width) at each of `scales`, smallest first; the last is `size`."""
        return [scaled(self.size, scale) for scale in self.scales]

    def style_size(self, size):
        """(height, width) the style images take for a painting of `size`."""
        return scaled(size, self.style_scale)

    def painting_options(self):
        """The keyword arguments of art.engine.painting.Painting this Job asks for (the
        masks, pictures at each size, are art.engine.stylize.painting_options')."""
        return dict(content_layers=self.content_layers, style_layers=self.style_layers,
                    content_weight=self.content_weight, style_weight=self.style_weight,
                    pooling=self.pooling, optimizer=self.optimizer,
                    learning_rate=self.learning_rate,
                    style_blend_weights=self.style_blend_weights, tv_weight=self.tv_weight,
                    style_loss=self.style_loss, normalize_gradients=self.normalize_gradients,
                    normalization=self.objective)

    def optimizer_options(self):
        """The settings the optimizer takes as they are: {name: value} of those that
        reach it (art.app.settings)."""
        return {setting.name: getattr(self, setting.name) for setting in SETTINGS
                if setting.reaches == OPTIMIZER}

    @property
    def is_clip(self):
        """True when the content is a clip (art.io.video.is_clip): a video is painted."""
        return video.is_clip(self.content)

    @property
    def frames_folder(self):
        """Where a clip's painted frames go: the output folder, or OUTPUT-frames beside a
        video."""
        return self.output if not os.path.splitext(self.output)[1] \
            else self.beside_output('frames', '')

    @property
    def keeps_content_colors(self):
        """True when every saved image takes its chroma from the content."""
        return self.preserve_colors or self.color_control == 'luminance'

    def picture(self, image, content_pixels):
        """The uint8 RGB picture a network-space `image` stands for, with the chroma of
        `content_pixels` (the content at the painting's size) when the job keeps it."""
        pixels = images.to_pixels(image)
        return images.preserve_colors(pixels, content_pixels) if self.keeps_content_colors \
            else pixels

    @property
    def total_iterations(self):
        """Iterations over all scales: --iterations at each."""
        return self.iterations * len(self.scales)

    @property
    def synthetic(self):
        """True when the network is generated here (random weights)."""
        return self.weights == SYNTHETIC

    @property
    def named_weights(self):
        """True when --weights names a network (art.network.sources.NAMED), not a file."""
        return self.weights in NAMED

    @property
    def cache_path(self):
        """A clip's optical flows and the painting it goes on from: OUTPUT-cache."""
        return self.beside_output('cache', '')

    def beside_output(self, suffix, extension=None):
        """A path beside the output: OUTPUT-SUFFIX.EXT (or OUTPUT.EXT with an empty suffix)."""
        stem, own = os.path.splitext(self.output)
        return '%s%s%s' % (stem, '-' + suffix if suffix else '', own if extension is None
                           else extension)

    def checkpoint_path(self, iteration):
        """Where the image at `iteration` goes: OUTPUT-N.EXT (art.py wrote output/N.png)."""
        return self.beside_output(str(iteration))

    @property
    def record_path(self):
        """The run's record: OUTPUT.json beside the image."""
        return self.beside_output('', '.json')

    @property
    def sheet_path(self):
        return self.beside_output('sheet', '.png')

    @property
    def curve_path(self):
        return self.beside_output('losses', '.png')

    def input_pictures(self):
        """(setting, path) of each picture the Job reads (art.app.settings.PICTURES: the
        content, a clip for a clip, styles, init image and masks), in the settings' order."""
        found = []
        for name in PICTURES:
            value = getattr(self, name)
            paths = value if SETTING[name].plural else [value] if value else []
            found += [(SETTING[name], path) for path in paths]
        return found

    def with_pictures_moved(self, move):
        """The Job with the path p of each picture it reads as move(p)."""
        moved = {}
        for name in PICTURES:
            value = getattr(self, name)
            moved[name] = (tuple(map(move, value)) if SETTING[name].plural
                           else value and move(value))
        return dataclasses.replace(self, **moved)

    def to_dict(self):
        """The Job as JSON-ready values (tuples become lists)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values):
        """A Job from `to_dict`'s values; JobError names an unknown or missing setting."""
        known = {field.name for field in dataclasses.fields(cls)}
        # A record written before --objective existed painted art.py's.
        values = {'objective': ART_PY, **values}
        unknown = sorted(set(values) - known)
        if unknown:
            raise JobError('unknown setting %r' % unknown[0])
        try:
            return cls(**values)
        except TypeError as error:
            raise JobError('incomplete job: %s' % error) from None


def scaled(size, scale):
    """(height, width) times `scale`, at least 1x1."""
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


def _field(setting):
    """The Job's field of a setting: required where resolve reads it from the inputs."""
    default = dataclasses.MISSING if setting.default == RESOLVED else setting.default
    return setting.name, setting.annotation, dataclasses.field(default=default)


Job = dataclasses.make_dataclass('Job', [_field(setting) for setting in SETTINGS if setting.job],
                                 bases=(JobRules,), frozen=True, kw_only=True)
Job.__module__ = __name__  # where pickle (a Ray task's Job) finds it
Job.__doc__ = """One painting, every setting resolved: a field per setting of art.app.settings,
named as the command line's long flag with underscores. See the module's docstring."""
