"""`python run_art.py`: paint a content image in the style of another.

The command line parses flags and turns them into one Job (art.app.job), which
is validated before any slow work; everything after that receives the Job.
Modes: paint (the default), --explain, --replay RECORD, --verify RECORD.
Every expected failure ends in one line on stderr and a documented exit code.
"""
import contextlib
import os
import signal
import sys

from tqdm import tqdm

from art.app.job import flag
from art.app.settings import INPUT_PATHS
from art.app.api import job_of
from art.app.arguments import build_parser, job_settings
from art.app.board import Board
from art.app.errors import EXIT_FAILED, EXPECTED_ERRORS, STOPS, UsageError, Terminated, ending_of
from art.io.files import WriteError, signals_deferred
from art.app.verification import IMAGE_TOLERANCE, LOSS_TOLERANCE
from art.engine.stops import leave

# Flags a replay may change: where files are, not what is painted.
REPLAY_FLAGS = ('output', 'loss_log', 'offline', 'weights_url', 'weights_md5') + INPUT_PATHS


def _given(args, names):
    """The flags among `names` that were given, as --flag-names."""
    return [flag(name) for name in names if getattr(args, name) not in
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
                                 flag(name) for name in REPLAY_FLAGS)))
    if args.verify and args.output:
        raise UsageError('--verify paints into a temporary folder; --output is not used')
    if args.preview and (args.explain or args.replay or args.verify):
        raise UsageError('--preview watches a painting, a clip or a batch; it cannot be '
                         'combined with %s' % chosen[0])


def moved_inputs(args):
    """New paths of a record's inputs given on the command line."""
    return {name: getattr(args, name) for name in INPUT_PATHS
            if getattr(args, name) is not None}


def verify(args, say):
    """--verify: the table, and exit 0 within the tolerances, 1 outside."""
    from art.app.verification import verify as verify_record  # pylint: disable=import-outside-toplevel
    say('replaying %s in a temporary folder' % args.verify)
    report = verify_record(args.verify, loss_tolerance=args.loss_tolerance or LOSS_TOLERANCE,
                           image_tolerance=args.image_tolerance or IMAGE_TOLERANCE, say=say,
                           **moved_inputs(args))
    for line in report.table():
        say(line)
    return 0 if report.passed else EXIT_FAILED


def dispatch(args, say):
    """Run the mode the flags ask for; the exit code."""
    from art.app import runner, verification  # pylint: disable=import-outside-toplevel
    check_modes(args)
    if args.verify:
        return verify(args, say)
    if args.replay:
        return verification.replay(args.replay, say, output=args.output, loss_log=args.loss_log,
                                   **moved_inputs(args))
    if args.batch:
        from art.app import batch  # pylint: disable=import-outside-toplevel
        with watching(args.preview, 'batch', say) as board:
            return batch.run_batch(args.batch, job_settings(args), args.out_dir, say, args.ray,
                                   board)
    job = job_of(job_settings(args), writes=not args.explain)
    if args.explain:
        return runner.explain(job, say)
    with watching(args.preview, 'clip' if job.is_clip else 'painting', say) as board:
        return runner.run(job, say, board=board)


@contextlib.contextmanager
def watching(where, kind, say):
    """The Board (art.app.board) of a run of `kind`, with its live page served on `where`
    ((host, port), or None for no page) for the block. A run that ends in an error its
    own files do not record still tells the page how it ended."""
    board = Board(kind)
    if where is None:
        yield board
        return
    from art.app.preview import serving  # pylint: disable=import-outside-toplevel
    with serving(where, board, say):
        try:
            yield board
        except STOPS + (Exception,) as error:
            if not board.ended:
                _, status, reason = ending_of(error)
                board.end(status, reason, {})
            raise


def main(argv=None):
    """Entry point: parse, paint, and turn every expected failure into one line."""
    args = build_parser().parse_args(argv)

    def say(message):
        try:
            with signals_deferred():  # a stop raised inside tqdm's lock would break it
                tqdm.write(message, file=sys.stdout)
                sys.stdout.flush()
        except BrokenPipeError:
            # The reader went away (`run_art.py ... | head`): the painting goes on.
            _drop_stdout()

    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        return dispatch(args, say)
    except STOPS + (Exception,) as error:  # pylint: disable=broad-except
        if args.debug:
            raise
        code, _, reason = ending_of(error)
        if isinstance(error, STOPS):
            reason = 'interrupted before painting started; nothing written'
        elif not isinstance(error, EXPECTED_ERRORS + (WriteError,)):
            # Not the user's doing: still one line, with the way to the details. (A
            # WriteError while painting: the run kept what it could, its record says why.)
            reason = 'unexpected error: %s: %s (run again with --debug for a traceback)' % (
                type(error).__name__, str(error).splitlines()[0] if str(error) else '')
        print('run_art.py: %s' % reason, file=sys.stderr)
        return code
    finally:
        signal.signal(signal.SIGTERM, previous)


def command():
    """The command's exit code (run_art.py, art-paint): main's, the process ended at once
    where a stop left an evaluation running (art.engine.stops.leave)."""
    # The command never uses Keras: so told, TensorFlow does not import it at start-up
    # (about a third of its import time).
    os.environ.setdefault('TF_USE_LEGACY_KERAS', '1')
    return leave(main())


def _drop_stdout():
    """Send what is still to come on stdout, and what its buffer holds, to the null device."""
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, sys.stdout.fileno())
    os.close(null)


def _raise_terminated(signum, frame):  # pylint: disable=unused-argument
    raise Terminated(signum)

