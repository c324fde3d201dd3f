"""Batches and sweeps: many Jobs painted one after another here, or as Ray tasks on a cluster.

Data flows one way, as for one painting:
- `read_batch`: JOBS (a JSON Lines file, or a folder of records) -> Entries,
  every line validated and every Job resolved before any painting starts
  (BatchError names the line);
- `paint_here` (a fresh worker process per job) or `paint_on_ray` (a Ray task
  per job, on a whole node) -> each job's image, record, sheet, curve and loss
  log under the output folder, and its Outcome;
- `write_summary` and `write_grid` -> summary.json and grid.png.

A line is an object whose keys are run_art.py's long flag names with
underscores; the batch's own flags are defaults for every line. A `sweep`
key maps flags to lists of values: the line stands for their product.
A job whose record in the folder says done for the same Job is skipped, so
a batch run again does only what is left.
"""
import collections
import contextlib
import dataclasses
import itertools
import json
import multiprocessing
import os
import signal
import socket
import tempfile
import time

from tqdm import tqdm

from art import arguments, grid, job as jobs, record as records, runner
from art.errors import (EXIT_FAILED, EXIT_SIGINT, EXIT_SIGTERM, STOPS, Terminated, UsageError,
                        ending_of, stopped_by)
from art.files import ImageError, write_atomic
from art.network import CONV_LAYERS
from art.runner import load_weights, stopping_once, wants_system_allocator

SUMMARY, GRID = 'summary.json', 'grid.png'
# Seed of a batch job that names none: the same start for every job, so that a
# sweep's paintings differ by the swept settings only and a rerun recognises them.
BATCH_SEED = 0
# Keys a line may not set: the output folder and the job's name place every file.
PLACED = ('output', 'loss_log')
PATH_KEYS = ('content', 'style', 'init_image', 'weights')

# One job of a batch: its `name` (its files' stem), the Job, the JOBS line it
# came from, and the (flag, value) pairs its line sweeps.
Entry = collections.namedtuple('Entry', 'name job line swept')
# How a job ended: status done, failed, interrupted or skipped; reason; the record's outcome.
Outcome = collections.namedtuple('Outcome', 'status reason result')


class BatchError(UsageError):
    """JOBS cannot be painted as given; the message names the line."""


def argv_of(values):
    """run_art.py's arguments for a line's {flag name: JSON value}."""
    argv = []
    for key, value in values.items():
        if value is True:
            argv.append(jobs.flag(key))
        elif isinstance(value, list):
            argv += [jobs.flag(key)] + [str(item) for item in value]
        elif value is not None and value is not False:
            argv += [jobs.flag(key), str(value)]
    return argv


class LineParser:
    """Turns a line's values into Job settings with run_art.py's own parser (one validation)."""

    def __init__(self, defaults):
        self.defaults = defaults
        self.known = set(defaults) - set(PLACED)

    def settings(self, values, where):
        unknown = sorted(set(values) - self.known)
        if unknown:
            raise BatchError('%s: unknown key %r (keys are run_art.py\'s long flag names with '
                             'underscores; %s are set by --out-dir)' % (
                                 where, unknown[0], ' and '.join(PLACED)))
        parser = arguments.build_parser()

        def refuse(message):
            raise BatchError('%s: %s' % (where, message))

        parser.error = refuse
        given = arguments.job_settings(parser.parse_args(argv_of(values)))
        return {name: given[name] if given.get(name) not in (None, False) else default
                for name, default in self.defaults.items()}


def expand(values, where):
    """[(swept pairs, values)] of a line: one per combination of its sweep."""
    sweep = values.pop('sweep', {})
    if not isinstance(sweep, dict):
        raise BatchError('%s: sweep must be an object of flag names and lists of values' % where)
    for key, choices in sweep.items():
        if not isinstance(choices, list) or not choices:
            raise BatchError('%s: sweep %s must be a non-empty list of values' % (where, key))
        if key in values:
            raise BatchError('%s: %s is both set and swept' % (where, key))
    keys = list(sweep)
    return [(tuple(zip(keys, combination)), dict(values, **dict(zip(keys, combination))))
            for combination in itertools.product(*(sweep[key] for key in keys))]


def _relative_to(folder, values):
    """Paths a line gives, relative to the JOBS file's folder."""
    for key in PATH_KEYS:
        if isinstance(values.get(key), str) and values[key] != jobs.SYNTHETIC:
            values[key] = os.path.join(folder, values[key])
        elif isinstance(values.get(key), list):
            values[key] = [os.path.join(folder, path) if isinstance(path, str) else path
                           for path in values[key]]


def placed(job, out_dir, name):
    """The Job with its files under out_dir named after `name`."""
    return dataclasses.replace(job, output=os.path.join(out_dir, name + '.png'),
                               loss_log=os.path.join(out_dir, name + '.csv'))


def lines_of(path):
    """[(line number, object)] of a JSON Lines file, blank lines and # comments skipped."""
    try:
        with open(path, encoding='utf-8') as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as error:
        raise BatchError('cannot read --batch %s: %s' % (path, getattr(error, 'strerror', None)
                                                          or error)) from None
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith('#'):
            continue
        try:
            values = json.loads(line)
        except json.JSONDecodeError as error:
            raise BatchError('%s line %d: not JSON (%s)' % (path, number, error.msg)) from None
        if not isinstance(values, dict):
            raise BatchError('%s line %d: a line must be a JSON object' % (path, number))
        found.append((number, values))
    if not found:
        raise BatchError('--batch %s holds no jobs' % path)
    return found


def entries_of_lines(path, defaults, out_dir):
    """The Entries of a JSON Lines file."""
    parser, entries = LineParser(defaults), []
    for number, values in lines_of(path):
        where = '%s line %d' % (path, number)
        name = values.pop('name', 'job%d' % number)
        if not isinstance(name, str) or name in ('', os.curdir, os.pardir) or os.sep in name:
            raise BatchError('%s: name must be a file name, not %s' % (where, json.dumps(name)))
        for swept, combination in expand(values, where):
            _relative_to(os.path.dirname(os.path.abspath(path)), combination)
            settings = parser.settings(combination, where)
            if settings.get('seed') is None:
                settings['seed'] = BATCH_SEED
            full = '-'.join([name] + ['%s=%s' % (key, grid.value_text(value)) for key, value in swept])
            try:
                job = placed(jobs.resolve(settings), out_dir, full)
            except (jobs.JobError, ImageError) as error:
                raise BatchError('%s: %s' % (where, error)) from None
            entries.append(Entry(full, job, number, swept))
    return entries


def entries_of_records(folder, out_dir):
    """The Entries of a folder of records: each Job as recorded, its files under out_dir."""
    paths = sorted(name for name in os.listdir(folder) if name.endswith('.json'))
    if not paths:
        raise BatchError('--batch %s holds no records (*.json)' % folder)
    entries = []
    for number, name in enumerate(paths, start=1):
        try:
            recorded = jobs.Job.from_dict(records.read_record(os.path.join(folder, name))['job'])
        except (records.RecordError, jobs.JobError) as error:
            raise BatchError('%s: %s' % (os.path.join(folder, name), error)) from None
        stem = os.path.splitext(name)[0]
        entries.append(Entry(stem, placed(recorded, out_dir, stem), number, ()))
    return entries


def earlier(entry):
    """(the Job, its status) the folder's record at the job's name holds, or None."""
    if not os.path.exists(entry.job.record_path):
        return None
    try:
        found = records.read_record(entry.job.record_path)
        return jobs.Job.from_dict(found['job']), found['outcome']['status']
    except (records.RecordError, jobs.JobError, KeyError, TypeError):
        return None


def finished(entry):
    """True when the job's record in the folder says done for this very Job."""
    return earlier(entry) == (entry.job, 'done')


def check_entries(entries):
    """BatchError for two jobs with one output, a reserved name, or a file that cannot be read."""
    seen = {}
    for entry in entries:
        where = 'line %d' % entry.line
        if entry.name + '.json' == SUMMARY or entry.name + '.png' == GRID:
            raise BatchError('%s: the name %s is the batch\'s own %s' % (
                where, entry.name, SUMMARY if entry.name + '.json' == SUMMARY else GRID))
        if entry.name in seen:
            raise BatchError('%s: job %s has the same output as line %d\'s' % (
                where, entry.name, seen[entry.name]))
        seen[entry.name] = entry.line
        found = earlier(entry)
        if found and found[0] != entry.job:
            raise BatchError('%s: %s holds a different job; choose another --out-dir or name, '
                             'or move the earlier files away' % (where, entry.job.record_path))
        try:
            jobs.check_files(entry.job)
        except (jobs.JobError, ImageError) as error:
            raise BatchError('%s: %s' % (where, error)) from None


def read_batch(source, defaults, out_dir):
    """The batch's Entries, validated; BatchError before any painting."""
    out_dir = os.path.abspath(out_dir)
    if os.path.isdir(source):
        entries = entries_of_records(source, out_dir)
    else:
        entries = entries_of_lines(source, defaults, out_dir)
    check_entries(entries)
    return entries


def outcome_of(entry, code, reason):
    """The Outcome of a job that ended with `code`, from its record where it has one."""
    try:
        result = records.read_record(entry.job.record_path)['outcome']
    except records.RecordError:
        result = None
    if result is None or result.get('status') == 'running':
        return Outcome('interrupted' if code in (EXIT_SIGINT, EXIT_SIGTERM) else 'failed',
                       reason or 'worker lost (exit code %s)' % code, result)
    return Outcome(result['status'], result['reason'] or reason, result)


def paint_one(job, say, loaded=None):
    """Paint `job` in this (worker) process; (exit code, reason or None), its reason said.

    What the command line reports in one line becomes the job's reason here.
    """
    try:
        code, reason = runner.run(job, say, loaded=loaded), None
    except STOPS as stop:
        code, name = stopped_by(stop)
        reason = 'interrupted (%s) before painting started' % name
    except Exception as error:  # pylint: disable=broad-except
        code, _, reason = ending_of(error)
    if reason:
        say(reason)
    return code, reason


def _paint_in_worker(values, log_path, sender):
    """A worker process's job: paint it, its lines to log_path, (code, reason) to `sender`.
    SIGINT and SIGTERM stop the painting as at a terminal, once."""
    with stopping_once(), open(log_path, 'w', encoding='utf-8') as log:
        def say(message):
            log.write(message + '\n')
            log.flush()

        sender.send(paint_one(jobs.Job.from_dict(values), say))


def paint_here(entry):
    """Paint one job in a fresh worker process (its memory is the system's again after);
    (its Outcome, the KeyboardInterrupt or Terminated that stopped the batch meanwhile, or
    None). A crash of the worker fails this job only.

    A SIGINT or SIGTERM the batch gets while the worker paints (sent to its process
    alone, or to its group with the worker) is passed on to the worker, which stops as
    a painting does: it writes its image and record, then ends.
    """
    context = multiprocessing.get_context('spawn')
    receiver, sender = context.Pipe(duplex=False)
    worker = context.Process(target=_paint_in_worker, name='art ' + entry.name,
                             args=(entry.job.to_dict(), entry.job.beside_output('', '.log'),
                                   sender))
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


def _remote_paint(values, inputs, loaded):
    """A Ray task's job: the inputs' bytes written to a scratch folder, the job painted there
    with the weights the driver sent; (code, reason, {file name: bytes}, {scratch: path}).
    The scratch folder is removed before the task returns."""
    with tempfile.TemporaryDirectory(prefix='art-ray-') as scratch:
        moved = {}
        for index, (path, data) in enumerate(inputs.items()):
            moved[path] = os.path.join(scratch, 'input-%d-%s' % (index, os.path.basename(path)))
            with open(moved[path], 'wb') as handle:
                handle.write(data)
        job = jobs.Job.from_dict(values)
        folder = os.path.join(scratch, 'out')
        os.makedirs(folder)
        local = dataclasses.replace(
            job, content=moved[job.content], style=tuple(moved[path] for path in job.style),
            init_image=moved.get(job.init_image), output=os.path.join(folder, os.path.basename(
                job.output)), loss_log=os.path.join(folder, os.path.basename(job.loss_log)))
        lines = []
        code, reason = paint_one(local, lines.append, loaded)
        written = {}
        for name in os.listdir(folder):
            with open(os.path.join(folder, name), 'rb') as handle:
                written[name] = handle.read()
    written[os.path.basename(job.beside_output('', '.log'))] = '\n'.join(lines).encode()
    paths = dict({moved[path]: path for path in moved}, **{folder: os.path.dirname(job.output)})
    return code, reason, written, paths


def _remote_paint_alone(values, inputs, loaded):
    """_remote_paint in a Ray worker of its own, which ends with it (max_calls=1)."""
    return _remote_paint(values, inputs, loaded)


def _with_paths(value, paths):
    """A record's JSON value with the worker's scratch paths made the driver's."""
    if isinstance(value, dict):
        return {key: _with_paths(item, paths) for key, item in value.items()}
    if isinstance(value, list):
        return [_with_paths(item, paths) for item in value]
    if isinstance(value, str):
        for scratch, path in paths.items():
            if value == scratch or value.startswith(scratch + os.sep):
                return path + value[len(scratch):]
    return value


def keep_remote_files(written, paths, out_dir):
    """Write a Ray task's files under out_dir, its record naming the driver's paths."""
    for name, data in written.items():
        if name.endswith('.json'):
            data = json.dumps(_with_paths(json.loads(data), paths), indent=1).encode()

        def write(partial, data=data):
            with open(partial, 'wb') as handle:
                handle.write(data)

        write_atomic(os.path.join(out_dir, name), write)


def node_cpus(ray):
    """CPUs of the cluster's smallest node: a task asking for them has a whole node."""
    return min(node['Resources'].get('CPU', 1) for node in ray.nodes() if node['Alive'])


def connect_ray(address):
    """The ray module, connected to the cluster at `address`; BatchError if it cannot be."""
    try:
        import ray  # pylint: disable=import-outside-toplevel
    except ImportError:
        raise BatchError("--ray needs Ray: pip install -e '.[cluster]'") from None
    try:
        if address != 'auto':
            # ray.init would retry an address where nothing listens for minutes.
            host, _, port = address.rpartition(':')
            socket.create_connection((host, int(port)), timeout=10).close()
        ray.init(address=address, logging_level='ERROR', log_to_driver=False)
    except (OSError, RuntimeError, ValueError) as error:
        raise BatchError('cannot reach a Ray cluster at %s: %s (start one with ray start '
                         '--head)' % (address, str(error).splitlines()[0])) from None
    return ray


def paint_on_ray(ray, entries, out_dir, report):
    """Paint the entries as Ray tasks on the connected cluster; report(entry, Outcome) as
    each ends.

    The driver reads the inputs and sends their bytes with each task, and the
    weights once through the object store, so nodes need neither a shared file
    system nor the weights file.
    """
    try:
        cpus = node_cpus(ray)
        task = ray.remote(num_cpus=cpus, max_retries=1)(_remote_paint)
        # Ray keeps a worker between tasks, and TensorFlow in it the allocator its first
        # job chose: a job choosing the system allocator gets a fresh one.
        alone = ray.remote(num_cpus=cpus, max_retries=1, max_calls=1)(_remote_paint_alone)
        sent, pending = {}, {}
        for entry in entries:
            job = entry.job
            key = (job.weights, job.kernel_layout)
            if key not in sent:
                sent[key] = ray.put(load_weights(job, lambda message: None,
                                                 layers=list(CONV_LAYERS)))
            inputs = {}
            for path in (job.content,) + job.style + ((job.init_image,) if job.init_image
                                                      else ()):
                with open(path, 'rb') as handle:
                    inputs[path] = handle.read()
            chosen = alone if wants_system_allocator(job) else task
            pending[chosen.remote(job.to_dict(), inputs, sent[key])] = entry
        try:
            while pending:
                [done], _ = ray.wait(list(pending), num_returns=1)
                entry = pending.pop(done)
                try:
                    code, reason, written, paths = ray.get(done)
                    keep_remote_files(written, paths, out_dir)
                    report(entry, outcome_of(entry, code, reason))
                except ray.exceptions.RayError as error:
                    report(entry, Outcome('failed', 'worker lost: %s' % str(error).splitlines()[0],
                                          None))
        except (KeyboardInterrupt, Terminated) as stop:
            for ref in pending:
                ray.cancel(ref, force=True)
            for entry in pending.values():
                report(entry, Outcome('interrupted', 'cancelled (%s)' % stopped_by(stop)[1],
                                      None))
            raise
    finally:
        ray.shutdown()


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
                     'settings': entry.job.to_dict()})
    counts = collections.Counter(row['status'] for row in rows)
    return {'format': 'art-batch-summary', 'jobs': rows, 'counts': dict(counts),
            'seconds': round(seconds, 3)}


def write_summary(out_dir, content):
    def write(partial):
        with open(partial, 'w', encoding='utf-8') as handle:
            json.dump(content, handle, indent=1)
    write_atomic(os.path.join(out_dir, SUMMARY), write)


def run_batch(source, defaults, out_dir, say, ray_address=None):
    """Paint a batch; the exit code: 0, 1 if any job failed, 130 on Ctrl-C."""
    entries = read_batch(source, defaults, out_dir)
    ray = connect_ray(ray_address) if ray_address else None
    out_dir = os.path.abspath(out_dir)
    outcomes, started = {}, time.time()
    todo = []
    for entry in entries:
        if finished(entry):
            outcomes[entry.name] = outcome_of(entry, 0, None)._replace(status='skipped')
            say('%s: skipped, done earlier (%s)' % (entry.name, entry.job.record_path))
        else:
            todo.append(entry)
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
                    outcome, stop = paint_here(entry)
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
    counts = content['counts']
    say('batch %s in %.1f s: %s -> %s%s' % (
        'interrupted' if code else 'finished', content['seconds'],
        ', '.join('%d %s' % (count, status) for status, count in sorted(counts.items())),
        os.path.join(out_dir, SUMMARY), ', ' + os.path.join(out_dir, GRID) if drawn else ''))
    if code:
        return code
    return EXIT_FAILED if counts.get('failed') or counts.get('interrupted') else 0
