"""`python run_art.py`: paint a content image in the style of another.

Data flows one way: files -> arrays (art.images) -> weights (art.weights,
art.download) -> graph and losses (art.painting) -> iterates -> images and a
loss log on disk. Every check on the user's input happens before any slow
work, and every file is written whole or not at all.
"""
import argparse
import os
import re
import signal
import sys
import tempfile
import time
import warnings

import imageio.v3 as iio
import numpy as np
from tqdm import tqdm

from art import costs, examples, images, pictures, report
from art.constants import (ALPHA, BETA, CONTENT_LAYERS, IMAGE_HEIGHT, IMAGE_WIDTH, ITERATIONS,
                           LEARNING_RATE, NOISE_RATIO, OUTPUT_DIR, STYLE_LAYERS, VGG_MODEL)
from art.cache import read_vgg19_cached
from art.download import VGG19_URL, DownloadError, download
from art.network import POOLINGS, convs_up_to, deepest_layer
from art.weights import KERNEL_LAYOUTS, KNOWN_FILES, WeightsError

DEFAULT_WEIGHTS = os.path.join('weights', VGG_MODEL)
DEFAULT_OUTPUT = os.path.join(OUTPUT_DIR, 'art.png')
LBFGS_ITERATIONS = 1000
EXIT_FAILED, EXIT_USAGE, EXIT_SIGINT, EXIT_SIGTERM = 1, 2, 130, 143
LOG_COLUMNS = ('iteration', 'evaluations', 'seconds', 'content', 'style', 'total')


class UsageError(Exception):
    """Bad input: the message is shown as one line and the exit code is 2."""


class Terminated(BaseException):
    """SIGTERM, raised in the main thread like KeyboardInterrupt for SIGINT."""


def _number(kind, minimum, inclusive=True, maximum=None):
    """An argparse type: `kind` parsed, then checked against the bounds."""
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError('%r is not a %s' % (text, kind.__name__)) from None
        if not np.isfinite(value) or value < minimum or (value == minimum and not inclusive) \
                or (maximum is not None and value > maximum):
            bound = ('>= %s' if inclusive else '> %s') % minimum
            if maximum is not None:
                bound += ' and <= %s' % maximum
            raise argparse.ArgumentTypeError('%s must be %s' % (text, bound))
        return value
    return parse


POSITIVE_INT = _number(int, 0, inclusive=False)
NON_NEGATIVE_INT = _number(int, 0)
POSITIVE_FLOAT = _number(float, 0, inclusive=False)
NON_NEGATIVE_FLOAT = _number(float, 0)
FRACTION = _number(float, 0, maximum=1)


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors in one line like every other error here."""

    def error(self, message):
        self.exit(EXIT_USAGE, '%s: error: %s (see --help)\n' % (self.prog, message))


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows '(default: X)' unless the help says it already or there is none."""

    def _get_help_string(self, action):
        if 'default' in (action.help or '') or action.default in (None, False, []):
            return action.help
        return super()._get_help_string(action)


def build_parser():
    """The command line's flags, each documented with its default."""
    parser = _Parser(
        prog='run_art.py',
        description="Paint a content image in the style of another with log0's art.py "
                    "(Gatys et al., arXiv 1508.06576): VGG-19 in tf.compat.v1 graph mode.",
        formatter_class=_HelpFormatter)
    files = parser.add_argument_group('images')
    files.add_argument('--content', metavar='PATH', default=examples.CONTENT,
                       help="content image (default: the project's example, a harbour at dusk)")
    files.add_argument('--style', metavar='PATH', nargs='+', default=[examples.STYLE],
                       help="style image(s) (default: the project's example, swirling strokes)")
    files.add_argument('--style-blend-weights', metavar='W', nargs='+', type=NON_NEGATIVE_FLOAT,
                       help='how much each style image counts, normalised to sum 1 (default: '
                            'equal)')
    files.add_argument('--style-scale', metavar='S', type=POSITIVE_FLOAT, default=1.0,
                       help='style images are resized to S times the output size before their '
                            'Gram matrices are taken')
    files.add_argument('--preserve-colors', action='store_true',
                       help="keep the content's colours: every saved image takes only its "
                            'luminance from the painting (YCbCr, ITU-R BT.601)')
    files.add_argument('--init', choices=images.INITS, default='mix',
                       help="starting image: art.py's noise/content mix, pure noise, the content, "
                            'or --init-image')
    files.add_argument('--init-image', metavar='PATH',
                       help='starting image for --init image (resized to the output size)')
    files.add_argument('--output', metavar='PATH', default=DEFAULT_OUTPUT,
                       help='the final image; its extension picks the format')
    files.add_argument('--width', metavar='N', type=POSITIVE_INT,
                       help='output width (default: %d, or from --height and the content '
                            "image's aspect ratio)" % IMAGE_WIDTH)
    files.add_argument('--height', metavar='N', type=POSITIVE_INT,
                       help='output height (default: %d, or from --width and the content '
                            "image's aspect ratio)" % IMAGE_HEIGHT)
    files.add_argument('--checkpoint-every', metavar='N', type=NON_NEGATIVE_INT, default=100,
                       help='write the image every N iterations beside the output, as '
                            'OUTPUT-N.EXT (art.py wrote output/N.png); 0 turns it off')
    files.add_argument('--loss-log', metavar='PATH',
                       help='CSV, one row per iteration: ' + ', '.join(LOG_COLUMNS))

    network = parser.add_argument_group('network')
    network.add_argument('--weights', metavar='PATH', default=DEFAULT_WEIGHTS,
                         help="MatConvNet's imagenet-vgg-verydeep-19.mat (downloaded when "
                              "missing), or 'synthetic' for a generated network with random "
                              'weights (no artistic result)')
    network.add_argument('--offline', action='store_true',
                         help='never download the weights')
    network.add_argument('--weights-url', metavar='URL', default=VGG19_URL,
                         help='where to download the weights from')
    network.add_argument('--weights-md5', metavar='HEX', action='append', default=[],
                         help='accept a downloaded file with this MD5 besides the two published '
                              'VGG-19 files (%s); repeatable' % ', '.join(KNOWN_FILES))
    network.add_argument('--pooling', choices=POOLINGS, default='avg',
                         help='pooling between blocks (art.py and the paper: avg)')
    network.add_argument('--kernel-layout', choices=KERNEL_LAYOUTS, default='as-stored',
                         help="kernels as stored in the .mat file (art.py), or with their two "
                              "spatial axes swapped (anishathalye's vgg.py)")
    network.add_argument('--content-layers', metavar='LAYER', nargs='+',
                         help='layers of the content loss (default: %s)'
                              % ' '.join(name for name, _ in CONTENT_LAYERS))
    network.add_argument('--style-layers', metavar='LAYER', nargs='+',
                         help='layers of the style loss (default: %s)'
                              % ' '.join(name for name, _ in STYLE_LAYERS))
    network.add_argument('--style-layer-weights', metavar='W', nargs='+', type=NON_NEGATIVE_FLOAT,
                         help="one per style layer (default: art.py's %s for its layers, else 1 "
                              'each)' % ' '.join('%g' % w for _, w in STYLE_LAYERS))
    network.add_argument('--content-weight-blend', metavar='B', type=FRACTION,
                         help="split the content loss between two layers as anishathalye's does: "
                              'B on the first, 1 - B on the second (default: off; layers '
                              'conv4_2 conv5_2 unless --content-layers names two)')

    algorithm = parser.add_argument_group('algorithm')
    algorithm.add_argument('--optimizer', choices=('lbfgs', 'adam'), default='lbfgs',
                           help="scipy's L-BFGS-B, or Adam as art.py ran it")
    algorithm.add_argument('--iterations', metavar='N', type=POSITIVE_INT,
                           help='optimizer iterations (default: %d for lbfgs, art.py\'s %d for '
                                'adam)' % (LBFGS_ITERATIONS, ITERATIONS))
    algorithm.add_argument('--learning-rate', metavar='F', type=POSITIVE_FLOAT,
                           default=LEARNING_RATE, help="Adam's learning rate")
    algorithm.add_argument('--noise-ratio', metavar='F', type=FRACTION, default=NOISE_RATIO,
                           help='weight of the noise in the starting image')
    algorithm.add_argument('--content-weight', metavar='F', type=NON_NEGATIVE_FLOAT,
                           default=BETA, help="weight of the content loss (art.py's BETA)")
    algorithm.add_argument('--style-weight', metavar='F', type=NON_NEGATIVE_FLOAT,
                           default=ALPHA, help="weight of the style loss (art.py's ALPHA)")
    algorithm.add_argument('--pixel-bounds', action='store_true',
                           help='keep pixels within 0..255 while optimizing (lbfgs only)')
    algorithm.add_argument('--tv-weight', metavar='W', type=NON_NEGATIVE_FLOAT, default=0.0,
                           help='weight of a total variation loss, which smooths noise (art.py: 0)')
    algorithm.add_argument('--scales', metavar='S', nargs='+', type=POSITIVE_FLOAT,
                           help='optimize at these fractions of the output size in turn, each '
                                'result upsampled to start the next, e.g. 0.25 0.5 1 (the last '
                                'must be 1); --iterations at each')
    algorithm.add_argument('--seed', metavar='N', type=NON_NEGATIVE_INT,
                           help='seed of the starting noise (default: a random one, printed)')
    parser.add_argument('--explain', action='store_true',
                        help='build the graph for these settings and describe it (the variable, '
                             'the captured constants, the op count, the losses, memory and '
                             'FLOPs) without optimizing or writing anything')
    parser.add_argument('--debug', action='store_true',
                        help='show a traceback on errors')
    return parser


def target_size(args, content_shape):
    """(height, width): the flags, or art.py's 800x600, one side following the other."""
    height, width = content_shape[:2]
    if args.width and args.height:
        return args.height, args.width
    if args.width:
        return max(1, round(args.width * height / width)), args.width
    if args.height:
        return args.height, max(1, round(args.height * width / height))
    return IMAGE_HEIGHT, IMAGE_WIDTH


def checkpoint_path(output, iteration):
    """Where the image at `iteration` goes: OUTPUT-N.EXT beside the output."""
    stem, extension = os.path.splitext(output)
    return '%s-%d%s' % (stem, iteration, extension)


def _same_file(first, second):
    """True when two paths name one file (existing or not)."""
    if os.path.exists(first) and os.path.exists(second):
        return os.path.samefile(first, second)
    return os.path.realpath(first) == os.path.realpath(second)


def check_writable(path, what):
    """Create the folder of `path` if needed and prove a file can be made there."""
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise UsageError('%s %s is a folder; give a file name' % (what, path))
    try:
        os.makedirs(folder, exist_ok=True)
        handle, probe = tempfile.mkstemp(prefix='.art-probe-', dir=folder)
        os.close(handle)
        os.remove(probe)
    except OSError as error:
        raise UsageError('cannot write %s %s: %s' % (what, path, error.strerror or error)) from None


def check_outputs(args):
    """Outputs never overwrite an input, their folders take files, the format exists."""
    inputs = {'content image': args.content}
    inputs.update(('style image %s' % path, path) for path in args.style)
    if args.init_image:
        inputs['--init-image'] = args.init_image
    if args.weights != 'synthetic':
        inputs['weights file'] = args.weights
    outputs = {'output': args.output}
    outputs['contact sheet'], outputs['loss curve'] = picture_paths(args.output)
    if args.loss_log:
        outputs['loss log'] = args.loss_log
    for what, path in outputs.items():
        for name, source in inputs.items():
            if _same_file(path, source):
                raise UsageError('%s %s is the %s; choose another path' % (what, path, name))
        check_writable(path, what)
    stem, extension = os.path.splitext(os.path.abspath(args.output))
    pattern = re.compile(re.escape(stem) + r'-\d+' + re.escape(extension) + '$')
    for name, source in inputs.items():
        if pattern.match(os.path.abspath(source)):
            raise UsageError('checkpoints %s-N%s would overwrite the %s %s; choose another '
                             '--output' % (stem, extension, name, source))
    if args.loss_log and _same_file(args.loss_log, args.output):
        raise UsageError('--loss-log and --output are the same file %s' % args.output)
    extension = os.path.splitext(args.output)[1].lower()
    try:
        with warnings.catch_warnings():
            # imageio warns before it fails on an unknown extension.
            warnings.simplefilter('ignore')
            iio.imwrite('<bytes>', np.zeros((2, 2, 3), np.uint8), extension=extension)
    except (ValueError, TypeError, KeyError, OSError):
        raise UsageError('cannot write images of type %r (output %s); use .png or .jpg'
                         % (extension or 'no extension', args.output)) from None


def read_images(args):
    """Content, style(s) and start pictures as uint8 RGB; ImageError names a bad one."""
    if args.init == 'image' and not args.init_image:
        raise UsageError('--init image needs --init-image PATH')
    if args.init_image and args.init != 'image':
        raise UsageError('--init-image is used with --init image only')
    start = images.read_rgb(args.init_image) if args.init_image else None
    return images.read_rgb(args.content), [images.read_rgb(path) for path in args.style], start


def layer_settings(args):
    """(content_layers, style_layers) as (layer, weight) pairs, checked."""
    content_names = args.content_layers or [name for name, _ in CONTENT_LAYERS]
    if args.content_weight_blend is None:
        content = [(name, 1.0) for name in content_names]
    else:
        if not args.content_layers:
            content_names = ['conv4_2', 'conv5_2']
        if len(content_names) != 2:
            raise UsageError('--content-weight-blend splits between two content layers; '
                             '--content-layers names %d' % len(content_names))
        blend = args.content_weight_blend
        content = [(content_names[0], blend), (content_names[1], 1.0 - blend)]
    if args.style_layers:
        names = args.style_layers
        weights = args.style_layer_weights or [1.0] * len(names)
    else:
        names = [name for name, _ in STYLE_LAYERS]
        weights = args.style_layer_weights or [weight for _, weight in STYLE_LAYERS]
    if len(weights) != len(names):
        raise UsageError('--style-layer-weights gives %d weights for %d style layers'
                         % (len(weights), len(names)))
    style = list(zip(names, weights))
    try:
        deepest_layer([name for name, _ in content + style], args.pooling)
    except ValueError as error:
        raise UsageError(str(error)) from None
    return content, style


def check_style_and_scales(args):
    """--style-blend-weights match the style images; --scales rise to 1."""
    if args.style_blend_weights and len(args.style_blend_weights) != len(args.style):
        raise UsageError('--style-blend-weights gives %d weights for %d style images'
                         % (len(args.style_blend_weights), len(args.style)))
    if args.style_blend_weights and sum(args.style_blend_weights) <= 0:
        raise UsageError('--style-blend-weights are all zero')
    if args.scales and (args.scales[-1] != 1 or args.scales != sorted(set(args.scales))):
        raise UsageError('--scales must increase and end at 1 (the output size), e.g. 0.25 0.5 1')


def _missing_weights(args, reason):
    return ('%s; download %s and put it at %s, or run with --weights synthetic (random weights, '
            'no artistic result)' % (reason, args.weights_url, args.weights))


def fetch_weights(args, say):
    """Download the weights file when it is missing, unless --offline."""
    if os.path.exists(args.weights):
        return
    if args.offline:
        raise UsageError(_missing_weights(args, 'weights file %s not found and --offline is '
                                                'given' % args.weights))
    say('downloading %s to %s' % (args.weights_url, args.weights))
    known = set(KNOWN_FILES) | {md5.lower() for md5 in args.weights_md5}
    with tqdm(unit='B', unit_scale=True, unit_divisor=1024, desc='weights', leave=False,
              disable=None) as progress:
        try:
            download(args.weights_url, args.weights, known=known, progress=progress)
        except DownloadError as error:
            raise UsageError(_missing_weights(args, str(error))) from None


def load_weights(args, layers, say):
    """VGGWeights for `layers`, and a description saying plainly if they are not VGG-19's."""
    if args.weights == 'synthetic':
        from art.synthetic import SYNTHETIC_NOTE, synthetic_weights  # pylint: disable=import-outside-toplevel
        weights = synthetic_weights()
        return (weights.transposed() if args.kernel_layout == 'transposed' else weights,
                'synthetic: ' + SYNTHETIC_NOTE)
    fetch_weights(args, say)
    weights = read_vgg19_cached(args.weights, layers, args.kernel_layout)
    if weights.md5 in KNOWN_FILES:
        return weights, '%s (%s layout, the published VGG-19, MD5 %s)' % (
            args.weights, weights.layout, weights.md5)
    return weights, ('%s (%s layout, MD5 %s): not a published VGG-19 file, a synthetic or '
                     'modified network: results are not artistic' % (
                         args.weights, weights.layout, weights.md5))


def check_memory(height, width, weights, last_layer, optimizer):
    """Refuse a size whose estimated peak memory exceeds what the machine has."""
    history = 10 if optimizer == 'lbfgs' else 0
    needed = costs.estimate_memory(height, width, weights.widths(), last_layer, history)
    available = costs.available_memory()
    if needed > available:
        raise UsageError('%dx%d needs an estimated %.1f GiB of memory and %.1f GiB is available; '
                         'use a smaller --width/--height' % (width, height, needed / 2**30,
                                                             available / 2**30))
    return needed


class LossLog:
    """The rows of the loss log, written whole to its path when asked."""

    def __init__(self, path, weights_note):
        self.path = path
        self.header = ['# art loss log; weights: %s' % weights_note, ','.join(LOG_COLUMNS)]
        self.rows = []

    def add(self, iterate, seconds):
        self.rows.append((iterate.iteration, iterate.evaluations, seconds, iterate.content_loss,
                          iterate.style_loss, iterate.total_loss))

    def columns(self):
        """The rows as one numpy array per column, in LOG_COLUMNS order."""
        return [np.array(column, dtype=np.float64) for column in zip(*self.rows)]

    def write(self):
        if not self.path:
            return
        lines = self.header + ['%d,%d,%.3f,%.9g,%.9g,%.9g' % row for row in self.rows]

        def write_text(partial):
            with open(partial, 'w', encoding='utf-8') as handle:
                handle.write('\n'.join(lines) + '\n')
        images.write_atomic(self.path, write_text)


def picture_paths(output):
    """Where the contact sheet and the loss curve of a run go, beside the output."""
    stem = os.path.splitext(output)[0]
    return stem + '-sheet.png', stem + '-losses.png'


def _raise_terminated(signum, frame):  # pylint: disable=unused-argument
    raise Terminated(signum)


def _stopped_by(stop):
    """(exit code, signal name) of a KeyboardInterrupt or Terminated."""
    return (EXIT_SIGTERM, 'SIGTERM') if isinstance(stop, Terminated) else (EXIT_SIGINT, 'SIGINT')


def painting_options(args, content_layers, style_layers):
    """The flags as art.painting.Painting's keyword arguments."""
    return dict(content_layers=content_layers, style_layers=style_layers,
                beta=args.content_weight, alpha=args.style_weight, pooling=args.pooling,
                optimizer=args.optimizer, learning_rate=args.learning_rate,
                style_blend_weights=args.style_blend_weights, tv_weight=args.tv_weight)


def scaled(size, scale):
    """(height, width) times `scale`, at least 1x1."""
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


def paint(args, say):
    """The whole run; returns the exit code."""
    content_pixels, style_pixels, start_pixels = read_images(args)
    content_layers, style_layers = layer_settings(args)
    check_style_and_scales(args)
    if not args.explain:
        check_outputs(args)
    height, width = target_size(args, content_pixels.shape)
    style_size = scaled((height, width), args.style_scale)
    last_layer = deepest_layer([name for name, _ in content_layers + style_layers], args.pooling)
    weights, weights_note = load_weights(args, convs_up_to(last_layer, args.pooling), say)
    largest = max((height, width), style_size, key=lambda size: size[0] * size[1])
    needed = check_memory(*largest, weights, last_layer, args.optimizer)
    iterations = args.iterations or (LBFGS_ITERATIONS if args.optimizer == 'lbfgs' else ITERATIONS)
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), 'little') >> 1
    say('weights: %s' % weights_note)
    say('painting %s in the style of %s at %dx%d: %s, %d iterations%s, seed %d, estimated '
        'memory %.1f GiB' % (args.content, ' + '.join(args.style), width, height, args.optimizer,
                             iterations, ' at scales %s' % ' '.join('%g' % s for s in args.scales)
                             if args.scales else '', seed, needed / 2**30))
    options = painting_options(args, content_layers, style_layers)
    content = images.preprocess(content_pixels, height, width)
    styles = [images.preprocess(pixels, *style_size) for pixels in style_pixels]
    start = images.initial_image(args.init, content, args.noise_ratio, seed, None if start_pixels
                                 is None else images.preprocess(start_pixels, height, width))
    from art import painting  # pylint: disable=import-outside-toplevel
    if args.explain:
        settings = dict(options, noise_ratio=args.noise_ratio, weights_note=weights_note)
        with painting.Painting(weights, content, styles, **options) as built:
            for line in report.explain(built, start, settings, weights.widths()):
                say(line)
        return 0
    if args.scales:
        sizes = [scaled((height, width), scale) for scale in args.scales]
        iterates = painting.stylize_scales(
            weights, [images.preprocess(content_pixels, *size) for size in sizes],
            [[images.preprocess(pixels, *scaled(size, args.style_scale))
              for pixels in style_pixels] for size in sizes],
            iterations, images.resize_image(start, *sizes[0]), bounds=args.pixel_bounds,
            **options)
        iterations *= len(args.scales)
    else:
        iterates = painting.stylize(weights, content, styles, iterations, initial_image=start,
                                    bounds=args.pixel_bounds, **options)
    run = Run(args, LossLog(args.loss_log, weights_note), say,
              images.resize_rgb(content_pixels, height, width),
              [images.resize_rgb(pixels, *style_size) for pixels in style_pixels])
    return optimize(run, iterates, iterations)


class Run:
    """One painting's progress: the loss log, checkpoints, and what is written at the end."""

    SHEET_CHECKPOINTS = 8

    def __init__(self, args, log, say, content_pixels, style_pixels):
        self.args, self.log, self.say = args, log, say
        self.content_pixels = content_pixels
        self.inputs = [('content', content_pixels)] + [
            ('style %d' % (index + 1) if len(style_pixels) > 1 else 'style', pixels)
            for index, pixels in enumerate(style_pixels)]
        self.checkpoints = []
        self.last = None
        self.started = time.time()

    def pixels(self, iterate):
        """The picture an iterate stands for, with the content's colours if asked."""
        pixels = images.to_pixels(iterate.image)
        if self.args.preserve_colors:
            pixels = images.preserve_colors(pixels, self.content_pixels)
        return pixels

    def record(self, iterate):
        """Log an iterate; write it as a checkpoint when its iteration is due."""
        self.last = iterate
        self.log.add(iterate, time.time() - self.started)
        every = self.args.checkpoint_every
        if every and iterate.iteration % every == 0:
            path = checkpoint_path(self.args.output, iterate.iteration)
            pixels = self.pixels(iterate)
            images.save_rgb(path, pixels)
            self.log.write()
            self.checkpoints.append(('iteration %d' % iterate.iteration,
                                     images.resize_rgb(pixels, *_thumbnail_size(pixels))))
            self.say('iteration %d: %d evaluations, total loss %.4g -> %s' % (
                iterate.iteration, iterate.evaluations, iterate.total_loss, path))

    def finish(self, code, outcome):
        """Write the last image, the log, the sheet and the curve; report; return `code`."""
        last = self.last
        if last is None:
            self.say('%s before the first iteration; nothing written' % outcome)
            return code
        result = self.pixels(last)
        images.save_rgb(self.args.output, result)
        self.log.write()
        sheet, curve = picture_paths(self.args.output)
        step = max(1, -(-len(self.checkpoints) // self.SHEET_CHECKPOINTS))
        pictures.contact_sheet(sheet, self.inputs + self.checkpoints[::step]
                               + [('result, iteration %d' % last.iteration, result)])
        _, evaluations, _, content, style, total = self.log.columns()
        drawn = pictures.loss_curve(curve, evaluations, content, style, total)
        self.say('%s in %.1f s: %d iterations, %d evaluations; content %.4g, style %.4g, total '
                 '%.4g -> %s (contact sheet %s, %s)' % (
                     outcome, time.time() - self.started, last.iteration, last.evaluations,
                     last.content_loss, last.style_loss, last.total_loss, self.args.output, sheet,
                     'loss curve %s' % curve if drawn else
                     "no loss curve: pip install -e '.[plots]' for matplotlib"))
        return code


def _thumbnail_size(pixels):
    """(height, width) of a contact-sheet thumbnail of `pixels`."""
    height, width = pixels.shape[:2]
    return pictures.THUMB_HEIGHT, max(1, round(width * pictures.THUMB_HEIGHT / height))


def optimize(run, iterates, iterations):
    """Consume the optimizer's iterates into `run`; the exit code."""
    from art.painting import NonFiniteLoss  # pylint: disable=import-outside-toplevel
    bar = tqdm(total=iterations, unit='it', desc='painting', leave=False, disable=None)
    try:
        for iterate in iterates:
            run.record(iterate)
            if iterate.iteration:
                bar.update(1)
                bar.set_postfix(evaluations=iterate.evaluations,
                                total='%.4g' % iterate.total_loss)
    except NonFiniteLoss as error:
        bar.close()
        return run.finish(EXIT_FAILED, 'error: %s after iteration %d; kept the last finite image'
                          % (error, run.last.iteration if run.last else 0))
    except (KeyboardInterrupt, Terminated) as stop:
        bar.close()
        iterates.close()
        code, name = _stopped_by(stop)
        return run.finish(code, 'interrupted (%s)' % name)
    bar.close()
    return run.finish(0, 'done')


def main(argv=None):
    """Entry point: parse, paint, and turn every expected failure into one line."""
    parser = build_parser()
    args = parser.parse_args(argv)

    def say(message):
        tqdm.write(message, file=sys.stdout)
        sys.stdout.flush()

    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        return paint(args, say)
    except (UsageError, WeightsError, images.ImageError) as error:
        if args.debug:
            raise
        print('run_art.py: error: %s' % error, file=sys.stderr)
        return EXIT_USAGE
    except (KeyboardInterrupt, Terminated) as stop:
        if args.debug:
            raise
        print('run_art.py: interrupted before painting started; nothing written', file=sys.stderr)
        return _stopped_by(stop)[0]
    except Exception as error:  # pylint: disable=broad-except
        # Not the user's doing: still one line, with the way to the details.
        if args.debug:
            raise
        print('run_art.py: unexpected error: %s: %s (run again with --debug for a traceback)'
              % (type(error).__name__, str(error).splitlines()[0] if str(error) else ''),
              file=sys.stderr)
        return EXIT_FAILED
    finally:
        signal.signal(signal.SIGTERM, previous)
