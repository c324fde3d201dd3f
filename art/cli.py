"""`python run_art.py`: paint a content image in the style of another.

The command line parses flags and turns them into one Job (art.job), which
is validated before any slow work; everything after that receives the Job.
Modes: paint (the default), --explain, --replay RECORD, --verify RECORD.
Every expected failure ends in one line on stderr and a documented exit code.
"""
import argparse
import dataclasses
import os
import signal
import sys

from tqdm import tqdm

from art import job as jobs
from art.constants import (ALPHA, BETA, CONTENT_LAYERS, IMAGE_HEIGHT, IMAGE_WIDTH, ITERATIONS,
                           LBFGS_HISTORY, LBFGS_ITERATIONS, LBFGS_STATE_LIMIT, LEARNING_RATE,
                           MIN_LBFGS_HISTORY, NOISE_RATIO, OPTIMIZERS, PRECISIONS, STYLE_LAYERS)
from art.download import VGG19_URL
from art.files import IMAGE_EXTENSIONS, ImageError, WriteError
from art.images import INITS
from art.network import POOLINGS
from art.record import TRAJECTORY_COLUMNS, RecordError
from art.runner import EXIT_FAILED, EXIT_USAGE, Terminated, UsageError, stopped_by
from art.verification import IMAGE_TOLERANCE, LOSS_TOLERANCE
from art.weights import KERNEL_LAYOUTS, KNOWN_FILES, WeightsError

# Flags a replay may change: where files are, not what is painted.
REPLAY_FLAGS = ('output', 'content', 'style', 'init_image', 'weights', 'loss_log', 'offline',
                'weights_url', 'weights_md5')
# Flags that choose what the command line does, not what it paints.
MODE_FLAGS = ('explain', 'debug', 'replay', 'verify', 'loss_tolerance', 'image_tolerance')


def _number(name):
    """An argparse type for the Job setting `name`: parsed and bounded by art.job."""
    def parse(text):
        try:
            return jobs.check_number(name, text)
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
                       help="content image (default: the project's example, a harbour at dusk)")
    files.add_argument('--style', metavar='PATH', nargs='+',
                       help="style image(s) (default: the project's example, swirling strokes)")
    files.add_argument('--style-blend-weights', metavar='W', nargs='+',
                       type=_number('style_blend_weights'),
                       help='how much each style image counts, normalised to sum 1 (default: '
                            'equal)')
    files.add_argument('--style-scale', metavar='S', type=_number('style_scale'),
                       help='style images are resized to S times the output size before their '
                            'Gram matrices are taken (default: 1)')
    files.add_argument('--preserve-colors', action='store_true', default=None,
                       help="keep the content's colours: every saved image takes only its "
                            'luminance from the painting (YCbCr, ITU-R BT.601)')
    files.add_argument('--init', choices=INITS,
                       help="starting image: art.py's noise/content mix, pure noise, the content, "
                            'or --init-image (default: mix)')
    files.add_argument('--init-image', metavar='PATH',
                       help='starting image for --init image (resized to the output size)')
    files.add_argument('--output', metavar='PATH',
                       help='the final image; its extension picks the format (%s); the record '
                            'goes beside it as OUTPUT.json (default: %s)'
                            % (' '.join(IMAGE_EXTENSIONS), jobs.DEFAULT_OUTPUT))
    files.add_argument('--width', metavar='N', type=_number('width'),
                       help='output width (default: %d, or from --height and the content '
                            "image's aspect ratio)" % IMAGE_WIDTH)
    files.add_argument('--height', metavar='N', type=_number('height'),
                       help='output height (default: %d, or from --width and the content '
                            "image's aspect ratio)" % IMAGE_HEIGHT)
    files.add_argument('--checkpoint-every', metavar='N', type=_number('checkpoint_every'),
                       help='write the image every N iterations beside the output, as '
                            'OUTPUT-N.EXT (art.py wrote output/N.png); 0 turns it off '
                            '(default: 100)')
    files.add_argument('--loss-log', metavar='PATH',
                       help='CSV, one row per iteration as it happens: '
                            + ', '.join(TRAJECTORY_COLUMNS))

    network = parser.add_argument_group('network')
    network.add_argument('--weights', metavar='PATH',
                         help="MatConvNet's imagenet-vgg-verydeep-19.mat (downloaded when "
                              "missing), or 'synthetic' for a generated network with random "
                              'weights, no artistic result (default: %s)' % jobs.DEFAULT_WEIGHTS)
    network.add_argument('--offline', action='store_true', default=None,
                         help='never download the weights')
    network.add_argument('--weights-url', metavar='URL',
                         help='where to download the weights from (default: %s)' % VGG19_URL)
    network.add_argument('--weights-md5', metavar='HEX', action='append',
                         help='accept a downloaded file with this MD5 besides the two published '
                              'VGG-19 files (%s); repeatable' % ', '.join(KNOWN_FILES))
    network.add_argument('--pooling', choices=POOLINGS,
                         help='pooling between blocks (default: avg, as art.py and the paper)')
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
                                'and take longer; L-BFGS only)')
    algorithm.add_argument('--learning-rate', metavar='F', type=_number('learning_rate'),
                           help="Adam's learning rate (default: %g)" % LEARNING_RATE)
    algorithm.add_argument('--noise-ratio', metavar='F', type=_number('noise_ratio'),
                           help='weight of the noise in the starting image (default: %g)'
                                % NOISE_RATIO)
    algorithm.add_argument('--content-weight', metavar='F', type=_number('content_weight'),
                           help="weight of the content loss (default: art.py's BETA, %g)" % BETA)
    algorithm.add_argument('--style-weight', metavar='F', type=_number('style_weight'),
                           help="weight of the style loss (default: art.py's ALPHA, %g)" % ALPHA)
    algorithm.add_argument('--pixel-bounds', action='store_true', default=None,
                           help='keep pixels within 0..255 while optimizing (lbfgs only; '
                                "scipy keeps a Python pair per value: 190 bytes each, 6.5 s "
                                'per start at 800x600)')
    algorithm.add_argument('--tv-weight', metavar='W', type=_number('tv_weight'),
                           help='weight of a total variation loss, which smooths noise '
                                '(default: 0, as art.py)')
    algorithm.add_argument('--scales', metavar='S', nargs='+', type=_number('scales'),
                           help='optimize at these fractions of the output size in turn, each '
                                'result upsampled to start the next, e.g. 0.25 0.5 1 (the last '
                                'must be 1); --iterations at each')
    algorithm.add_argument('--seed', metavar='N', type=_number('seed'),
                           help='seed of the starting noise (default: a random one, printed '
                                'and recorded)')

    modes = parser.add_argument_group('replay and verify')
    modes.add_argument('--replay', metavar='RECORD',
                       help='paint the job of a record (OUTPUT.json) again, by default to '
                            'OUTPUT-replay.EXT; inputs are checked against their SHA-256, and '
                            '--content/--style/--init-image/--weights point at moved files')
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
    parser.add_argument('--debug', action='store_true',
                        help='show a traceback on errors')
    return parser


# The failures a user can mend: reported in one line, exit 2.
EXPECTED_ERRORS = (UsageError, jobs.JobError, WeightsError, ImageError, RecordError)


def job_settings(args):
    """The Job's settings from parsed flags: {name: value or None}."""
    names = {field.name for field in dataclasses.fields(jobs.Job)}
    names |= {'style_layer_weights', 'content_weight_blend'}
    return {name: value for name, value in vars(args).items() if name in names}


def _given(args, names):
    """The flags among `names` that were given, as --flag-names."""
    return ['--' + name.replace('_', '-') for name in names if getattr(args, name) not in
            (None, False)]


def check_modes(args):
    """The modes exclude each other; --replay and --verify change only where files are."""
    chosen = _given(args, ('explain', 'replay', 'verify', 'batch'))
    if len(chosen) > 1:
        raise UsageError('%s cannot be combined' % ' and '.join(chosen))
    for needs_batch in _given(args, ('out_dir', 'ray')):
        if not args.batch:
            raise UsageError('%s is used with --batch only' % needs_batch)
    if args.batch:
        if not args.out_dir:
            raise UsageError('--batch needs --out-dir DIR, where its files go')
        placed = _given(args, ('output', 'loss_log'))
        if placed:
            raise UsageError("%s cannot be given with --batch: each job's files are named "
                             'after it in --out-dir' % placed[0])
    tolerances = _given(args, ('loss_tolerance', 'image_tolerance'))
    if tolerances and not args.verify:
        raise UsageError('%s is used with --verify only' % tolerances[0])
    if args.replay or args.verify:
        fixed = _given(args, [name for name in job_settings(args) if name not in REPLAY_FLAGS])
        if fixed:
            raise UsageError('%s cannot be changed with %s: the record fixes it (only %s may '
                             'be given)' % (fixed[0], chosen[0], ', '.join(
                                 '--' + name.replace('_', '-') for name in REPLAY_FLAGS)))
    if args.verify and args.output:
        raise UsageError('--verify paints into a temporary folder; --output is not used')


def moved_inputs(args):
    """New paths of a record's inputs given on the command line."""
    return {name: getattr(args, name) for name in ('content', 'style', 'init_image', 'weights')
            if getattr(args, name) is not None}


def verify(args, say):
    """--verify: the table, and exit 0 within the tolerances, 1 outside."""
    from art.verification import verify as verify_record  # pylint: disable=import-outside-toplevel
    say('replaying %s in a temporary folder' % args.verify)
    report = verify_record(args.verify, loss_tolerance=args.loss_tolerance or LOSS_TOLERANCE,
                           image_tolerance=args.image_tolerance or IMAGE_TOLERANCE, say=say,
                           **moved_inputs(args))
    for line in report.table():
        say(line)
    return 0 if report.passed else EXIT_FAILED


def dispatch(args, say):
    """Run the mode the flags ask for; the exit code."""
    from art import runner, verification  # pylint: disable=import-outside-toplevel
    check_modes(args)
    if args.verify:
        return verify(args, say)
    if args.replay:
        return verification.replay(args.replay, say, output=args.output, loss_log=args.loss_log,
                                   **moved_inputs(args))
    if args.batch:
        from art import batch  # pylint: disable=import-outside-toplevel
        return batch.run_batch(args.batch, job_settings(args), args.out_dir, say, args.ray)
    job = jobs.resolve(job_settings(args))
    jobs.check_files(job, writes=not args.explain)
    if args.explain:
        return runner.explain(job, say)
    return runner.run(job, say)


def main(argv=None):
    """Entry point: parse, paint, and turn every expected failure into one line."""
    args = build_parser().parse_args(argv)

    def say(message):
        try:
            tqdm.write(message, file=sys.stdout)
            sys.stdout.flush()
        except BrokenPipeError:
            # The reader went away (`run_art.py ... | head`): the painting goes on.
            _drop_stdout()

    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        return dispatch(args, say)
    except EXPECTED_ERRORS as error:
        if args.debug:
            raise
        print('run_art.py: error: %s' % error, file=sys.stderr)
        return EXIT_USAGE
    except (KeyboardInterrupt, Terminated) as stop:
        if args.debug:
            raise
        print('run_art.py: interrupted before painting started; nothing written', file=sys.stderr)
        return stopped_by(stop)[0]
    except WriteError as error:
        # While painting (before it, the Job's checks and the first writes say exit 2):
        # the run kept what it could and its record says why.
        if args.debug:
            raise
        print('run_art.py: error: %s' % error, file=sys.stderr)
        return EXIT_FAILED
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


def _drop_stdout():
    """Send what is still to come on stdout, and what its buffer holds, to the null device."""
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, sys.stdout.fileno())
    os.close(null)


def _raise_terminated(signum, frame):  # pylint: disable=unused-argument
    raise Terminated(signum)

