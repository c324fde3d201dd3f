"""Running a Job: pictures and weights read (art.app.loading), its memory planned
(art.app.memory), the engine driven, its progress written (art.app.progress).

Data flows one way: files -> pictures (art.io.files) -> weights (art.network.weights,
art.network.download, art.network.cache) -> the engine's Iterates (art.engine.stylize) -> images, the
loss log, the record, the contact sheet and the loss curve on disk. The Job
was validated before any of this starts (art.app.job).
"""
import collections
import contextlib
import os
import signal

from tqdm import tqdm

from art.app.board import Board
from art.app.record import describe_inputs, device_line, environment, new_record, precision_words
from art.app.errors import EXIT_FAILED, STOPS, Ending, Terminated, UsageError, ending_of
from art.app.loading import load_weights, read_pictures
from art.app.memory import describe_tiles, plan_memory, tiling_line, wants_system_allocator
from art.app.progress import Progress
from art.constants import FINISH_PRECISION, FLAT_WINDOW
from art.engine import cpu
from art.io.files import WriteError, signals_deferred

# The work before the graph (`prepare`): the pictures (art.app.loading.Pictures), the
# weights and their description, the estimated peak bytes and {size: tile or None}.
Prepared = collections.namedtuple('Prepared', 'pictures weights described needed tiles')


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def stopping_once():
    """Inside (in the main thread), the first SIGINT or SIGTERM raises KeyboardInterrupt or
    Terminated and the ones after it are ignored: they would interrupt the saving of
    what was painted. For processes whose stop may come twice: a batch's worker gets its
    terminal's Ctrl-C and the batch's forwarded one."""
    previous = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}

    def stop(signum, frame):  # pylint: disable=unused-argument
        for each in STOP_SIGNALS:
            signal.signal(each, signal.SIG_IGN)
        raise KeyboardInterrupt if signum == signal.SIGINT else Terminated(signum)

    for signum in STOP_SIGNALS:
        signal.signal(signum, stop)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def choose_precision(job):
    """(bulk precision, why, hint or None) of the Job on this machine's CPU; UsageError
    for a bfloat16 the CPU would only emulate."""
    model, flags = cpu.cpuinfo()
    try:
        return cpu.choose_precision(job.precision, model, flags, cpu.onednn_enabled())
    except cpu.PrecisionError as error:
        raise UsageError(str(error)) from None


def prepare(job, say, weights_md5=None, loaded=None):
    """The Prepared work before the graph: pictures, weights and their description, the
    estimated memory and the tiles.

    With `weights_md5`, the weights must have that checksum (a replay's); `loaded` is
    load_weights' answer when the caller has it (a batch's Ray worker).
    """
    pictures = read_pictures(job)
    weights, described = loaded or load_weights(job, say)
    if weights_md5 is not None and described['md5'] != weights_md5:
        raise UsageError('weights %s have MD5 %s, not the recorded %s: not the network the '
                         'painting was made with' % (job.weights, described['md5'], weights_md5))
    return Prepared(pictures, weights, described, *plan_memory(job, weights))


def iterations_words(job):
    """How many iterations the Job runs, in words."""
    if job.is_clip:
        return ('%s, %d iterations for the first and %d for each other, temporal weight %g'
                % ('frames %d:%d' % job.frames if job.frames else 'every frame',
                   job.iterations, job.frame_iterations, job.temporal_weight))
    return '%d iterations%s' % (job.total_iterations, ' at scales %s' % ' '.join(
        '%g' % s for s in job.scales) if len(job.scales) > 1 else '')


def announce(job, prepared, precision, configs, say):
    """Say what will be painted, how and on what (the sessions of `configs`); the record's
    environment."""
    if wants_system_allocator(job):
        os.environ.setdefault(cpu.SYSTEM_ALLOCATOR, '1')
    say('weights: %s' % prepared.described['note'])
    say('painting %s in the style of %s at %dx%d: %s, %s, seed %d, estimated memory %.1f GiB'
        % (job.content, ' + '.join(job.style), job.width, job.height, job.optimizer,
           iterations_words(job), job.seed, prepared.needed / 2**30))
    bulk, why, hint = precision
    machine = environment(configs[FINISH_PRECISION], (bulk, why))
    machine['tiling'] = describe_tiles(job, prepared.tiles)
    say('running on %s' % device_line(machine))
    if hint:
        say(hint)
    for tiled in machine['tiling']:
        say(tiling_line(tiled))
    return machine


def drive(iterates, progress, total, last_iteration):
    """Hand each Iterate to `progress`, with a progress bar over `total` iterations, until
    the painting ends (or reaches `last_iteration`): (its Ending, the exception to pass on
    or None)."""
    from art.engine.optimizers import NonFiniteLoss  # pylint: disable=import-outside-toplevel
    bar = tqdm(total=last_iteration or total, unit='it', desc='painting', leave=False,
               disable=None)
    try:
        for iterate in iterates:
            progress.add(iterate)
            if iterate.iteration:
                with signals_deferred():  # a stop raised inside tqdm's locks breaks them
                    bar.update(1)
                    bar.set_postfix(evaluations=iterate.evaluations,
                                    total='%.4g' % iterate.total_loss)
            if iterate.iteration == last_iteration and last_iteration < total:
                return Ending(0, 'interrupted', 'stopped at iteration %d, where the record ends'
                              % last_iteration), None
        return Ending(0, 'done'), None
    except NonFiniteLoss as error:
        return Ending(EXIT_FAILED, 'failed', 'error: %s %s' % (
            error, 'after iteration %d; kept the last finite image' % progress.last.iteration
            if progress.last else 'at the start')), None
    except STOPS as stop:
        return ending_of(stop), None
    except Exception as error:  # pylint: disable=broad-except
        # A full disk, or anything else: recorded as failed, what could be kept written,
        # then passed on to the command line's one-line report.
        return ending_of(error), error
    finally:
        bar.close()
        iterates.close()


def run(job, say, weights_md5=None, last_iteration=None, loaded=None, board=None):
    """Paint `job`, writing its files as it goes; the exit code.

    `last_iteration` stops after that iteration (a replay of a run that
    ended there); `weights_md5` and `loaded` as in `prepare`; `board` is the live
    page's (art.app.board), a Board no page reads when None. A stop does not wait
    for the evaluation under way (art.engine.stops).
    """
    board = Board() if board is None else board
    precision = choose_precision(job)
    inputs = describe_inputs(job)
    if job.is_clip:
        try:
            from art.app import clip_run  # pylint: disable=import-outside-toplevel
        except ImportError as error:  # OpenCV, without the video extra
            raise UsageError("painting a clip needs %s: pip install -e '.[video]'"
                             % error.name) from None
        done = clip_run.frames_done(job, inputs)
    prepared = prepare(job, say, weights_md5, loaded)
    from art.engine import stylize  # pylint: disable=import-outside-toplevel
    from art.engine.painting import session_configs  # pylint: disable=import-outside-toplevel
    configs = session_configs(precision[0])
    machine = announce(job, prepared, precision, configs, say)
    record = new_record(job, inputs, prepared.described, machine)
    if job.is_clip:
        return clip_run.paint_clip_job(job, prepared, configs, record, done, say, board)
    progress = Progress(job, record, say, prepared.pictures, board)
    iterates = stylize.paint(job, prepared.weights, prepared.pictures, configs, prepared.tiles)
    ending, failure = drive(iterates, progress, job.total_iterations, last_iteration)
    if (ending.status == 'done' and job.min_progress
            and progress.last.iteration < job.total_iterations):
        ending = ending._replace(reason='done, the loss flat: down less than %g of itself over '
                                 'the last %d iterations' % (job.min_progress, FLAT_WINDOW))
    try:
        code = progress.finish(ending)
    except WriteError as error:
        failure = failure or error  # the first file that could not be written is the one said
    if failure is not None:
        raise failure
    return code


def explain(job, say):
    """`--explain`: build the Job's graph (or its crop graphs) at its full size and describe
    it; write nothing."""
    precision, why, hint = choose_precision(job)
    pictures, weights, described, needed, tiles = prepare(job, say)
    say('precision: %s' % precision_words(precision, why))
    if hint:
        say(hint)
    for tiled in describe_tiles(job, tiles):
        say(tiling_line(tiled))
    from art.engine import stylize  # pylint: disable=import-outside-toplevel
    from art.app import report
    content, styles = stylize.network_images(job, pictures, job.size)
    start = stylize.starting_image(job, pictures, content)
    with stylize.evaluator(weights, content, styles, tiles[tuple(job.size)],
                          **stylize.painting_options(job, pictures, job.size)) as built:
        for line in report.report_lines(built, start, job, described['note'],
                                        weights.widths(), needed):
            say(line)
    return 0
