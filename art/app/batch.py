"""Batches and sweeps: many Jobs painted one after another here, or as Ray tasks on a cluster.

Data flows one way, as for one painting:
- `read_batch` (art.app.jobs_file): JOBS (a JSON Lines file, or a folder of
  records) -> Entries, every line validated and every Job resolved before
  any painting starts (BatchError names the line);
- `paint_here` (a fresh worker process per job, art.app.worker) or
  `paint_on_ray` (a Ray task per job, on a whole node, art.app.ray_tasks) ->
  each job's image, record, sheet, curve and loss log under the output
  folder, and its Outcome;
- `write_summary` and `write_grid` (art.app.grid) -> summary.json and grid.png.

A line is an object whose keys are run_art.py's long flag names with
underscores; the batch's own flags are defaults for every line. A `sweep`
key maps flags to lists of values: the line stands for their product.
A job whose record in the folder says done for the same Job is skipped, so
a batch run again does only what is left.
"""
import collections
import contextlib
import json
import multiprocessing
import os
import signal
import threading
import time

from tqdm import tqdm

from art.app import grid
from art.app.board import Board, Relay, receive
from art.app.preview import STREAM_RATE
from art.app.progress import downloads
from art.app.job import Job
from art.app.errors import EXIT_FAILED, Terminated, stopped_by
from art.engine.stops import leave
from art.app.jobs_file import GRID, SUMMARY, finished, read_batch
from art.app.ray_tasks import connect_ray, paint_on_ray
from art.app.runner import stopping_once
from art.app.worker import Outcome, outcome_of, paint_one
from art.io.files import write_atomic


def _paint_in_worker(values, log_path, sender, relay):
    """A worker process's job: paint it, its lines to log_path, (code, reason) to `sender`,
    its progress to the batch's page over `relay` (a Connection, or None without a page).
    SIGINT and SIGTERM stop the painting as at a terminal, once."""
    with stopping_once(), open(log_path, 'w', encoding='utf-8') as log:
        def say(message):
            log.write(message + '\n')
            log.flush()

        board = Board()
        if relay is not None:
            Relay(board, relay, STREAM_RATE).start()
        sender.send(paint_one(Job.from_dict(values), say, board=board))
    leave(0)  # its answer sent: a step a stop left running is not waited for


@contextlib.contextmanager
def relaying(context, board, name):
    """The worker's end of a pipe that brings job `name`'s painting to `board` for the
    block, or None when no page shows it."""
    if not board.served:
        yield None
        return
    ours, theirs = context.Pipe()
    board.relay = lambda: ours.send('save')
    reader = threading.Thread(target=receive, args=(board, ours, name), daemon=True)
    reader.start()
    try:
        yield theirs
    finally:
        theirs.close()
        board.relay = None
        reader.join(1)
        ours.close()


def paint_here(entry, board):
    """Paint one job in a fresh worker process (its memory is the system's again after);
    (its Outcome, the KeyboardInterrupt or Terminated that stopped the batch meanwhile, or
    None). A crash of the worker fails this job only.

    A SIGINT or SIGTERM the batch gets while the worker paints (sent to its process
    alone, or to its group with the worker) is passed on to the worker, which stops as
    a painting does: it writes its image and record, then ends.
    """
    context = multiprocessing.get_context('spawn')
    receiver, sender = context.Pipe(duplex=False)
    board.begin_painting(title=entry.name)
    with relaying(context, board, entry.name) as relay:
        worker = context.Process(target=_paint_in_worker, name='art ' + entry.name,
                                 args=(entry.job.to_dict(), entry.job.beside_output('', '.log'),
                                       sender, relay))
        worker.start()
        sender.close()
        stop = None
        try:
            worker.join()
        except (KeyboardInterrupt, Terminated) as caught:  # once: run_batch is stopping_once
            stop = caught
            with contextlib.suppress(ProcessLookupError):
                os.kill(worker.pid, signal.Signals[stopped_by(stop)[1]])
            worker.join()
    try:
        answer = receiver.recv()
    except EOFError:  # the worker died before it could answer
        answer = (stopped_by(stop)[0] if stop else worker.exitcode, None)
    return outcome_of(entry, *answer), stop


def summary(entries, outcomes, seconds):
    """summary.json's content: each job's settings, outcome, losses and seconds."""
    rows = []
    for entry in entries:
        outcome = outcomes.get(entry.name, Outcome('not started', None, None))
        result = outcome.result or {}
        rows.append({'name': entry.name, 'line': entry.line,
                     'swept': {key: value for key, value in entry.swept},
                     'status': outcome.status, 'reason': outcome.reason,
                     'output': entry.job.output, 'record': entry.job.record_path,
                     **{key: result.get(key) for key in ('iterations', 'evaluations',
                                                         'content_loss', 'style_loss',
                                                         'total_loss', 'seconds')},
                     # The objective's other groups' losses (tv_loss, ...), as the record's.
                     **{key: value for key, value in result.items() if key.endswith('_loss')},
                     'settings': entry.job.to_dict()})
    counts = collections.Counter(row['status'] for row in rows)
    return {'format': 'art-batch-summary', 'jobs': rows, 'counts': dict(counts),
            'seconds': round(seconds, 3)}


def write_summary(out_dir, content):
    def write(partial):
        with open(partial, 'w', encoding='utf-8') as handle:
            json.dump(content, handle, indent=1)
    write_atomic(os.path.join(out_dir, SUMMARY), write)


def show_jobs(board, entries, outcomes, on_ray):
    """The batch's jobs on its page: each queued, or skipped with its painting."""
    board.update_run(jobs=[{'name': entry.name, 'status': 'queued', 'reason': None,
                            'thumbnail': 0} for entry in entries], can_save=not on_ray)
    for entry in entries:
        if entry.name in outcomes:
            board.update_job(entry.name, grid.painted(entry.job), status='skipped')


def run_batch(source, defaults, out_dir, say, ray_address=None, board=None):
    """Paint a batch, shown on `board` (art.app.board; None: a Board no page reads); the
    exit code: 0, 1 if any job failed, 130 on Ctrl-C."""
    board = Board('batch') if board is None else board
    entries = read_batch(source, defaults, out_dir)
    ray = connect_ray(ray_address, entries) if ray_address else None
    out_dir = os.path.abspath(out_dir)
    outcomes, started = {}, time.time()
    todo = []
    for entry in entries:
        if finished(entry):
            outcomes[entry.name] = outcome_of(entry, 0, None)._replace(status='skipped')
            say('%s: skipped, done earlier (%s)' % (entry.name, entry.job.record_path))
        else:
            todo.append(entry)
    show_jobs(board, entries, outcomes, bool(ray))
    say('batch: %d jobs, %d to paint %s, %d done earlier; files in %s' % (
        len(entries), len(todo), 'on Ray at %s' % ray_address if ray_address
        else 'here, one at a time', len(entries) - len(todo), out_dir))
    bar = tqdm(total=len(todo), unit='job', desc='batch', leave=False, disable=None)

    def report(entry, outcome):
        outcomes[entry.name] = outcome
        statuses = collections.Counter(found.status for found in outcomes.values())
        bar.update(1)
        # On Ray, the jobs left are running or queued.
        bar.set_postfix(done=statuses['done'], failed=statuses['failed'],
                        running=len(todo) - bar.n if ray_address else 0)
        say('%s: %s%s' % (entry.name, outcome.status,
                          ', %s' % outcome.reason if outcome.reason else ''))
        board.update_job(entry.name, grid.painted(entry.job) if outcome.status == 'done'
                         and os.path.exists(entry.job.output) else None,
                         status=outcome.status, reason=outcome.reason)

    code = 0
    # SIGINT and SIGTERM end a batch as Ctrl-C at its terminal does: the job painting
    # is stopped and saved, the summary and grid are written, whatever follows them.
    with stopping_once():
        try:
            if ray:
                paint_on_ray(ray, todo, out_dir, report)
            else:
                for entry in todo:
                    bar.set_postfix(running=1)
                    board.update_job(entry.name, status='running')
                    outcome, stop = paint_here(entry, board)
                    report(entry, outcome)
                    if stop:
                        raise stop
                    if outcome.status == 'interrupted':
                        raise KeyboardInterrupt
        except (KeyboardInterrupt, Terminated) as stop:
            code = stopped_by(stop)[0]
        finally:
            bar.close()
            content = summary(entries, outcomes, time.time() - started)
            write_summary(out_dir, content)
            drawn = grid.write_grid(os.path.join(out_dir, GRID), entries, outcomes)
    return batch_ended(content, code, out_dir, drawn, say, board)


def batch_ended(content, code, out_dir, drawn, say, board):
    """Say how the batch ended, and show it on `board`; its exit code."""
    counts = content['counts']
    how = ', '.join('%d %s' % (count, status) for status, count in sorted(counts.items()))
    board.end('interrupted' if code else 'done', how,
              downloads(os.path.join(out_dir, SUMMARY), os.path.join(out_dir, GRID)))
    say('batch %s in %.1f s: %s -> %s%s' % (
        'interrupted' if code else 'finished', content['seconds'], how,
        os.path.join(out_dir, SUMMARY), ', ' + os.path.join(out_dir, GRID) if drawn else ''))
    if code:
        return code
    return EXIT_FAILED if counts.get('failed') or counts.get('interrupted') else 0
