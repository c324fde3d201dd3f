"""A batch's JOBS read into Entries: a JSON Lines file (each line a Job's flags, a `sweep`
the product of its values) or a folder of records, every line validated and every Job
resolved before any painting starts (BatchError names the line)."""
import collections
import dataclasses
import itertools
import json
import os

from art.app import arguments, grid
from art.app.job import Job, JobError
from art.app.settings import INPUT_PATHS
from art.network.sources import NAMED
from art.app.resolving import resolve
from art.app.record import RecordError, read_record
from art.app.errors import UsageError
from art.app.job_files import check_files
from art.io.files import ImageError

# The batch's own files in its output folder.
SUMMARY, GRID = 'summary.json', 'grid.png'



# Seed of a batch job that names none: the same start for every job, so that a
# sweep's paintings differ by the swept settings only and a rerun recognises them.
BATCH_SEED = 0


# Keys a line may not set: the output folder and the job's name place every file.
PLACED = ('output', 'loss_log')




# One job of a batch: its `name` (its files' stem), the Job, the JOBS line it
# came from, and the (flag, value) pairs its line sweeps.
Entry = collections.namedtuple('Entry', 'name job line swept')


class BatchError(UsageError):
    """JOBS cannot be painted as given; the message names the line."""


class LineParser:
    """Turns a line's values into Job settings as run_art.py's flags take them (one
    declaration, art.app.arguments), the batch's flags as defaults."""

    def __init__(self, defaults):
        self.defaults = defaults
        self.known = set(defaults) - set(PLACED)

    def settings(self, values, where):
        unknown = sorted(set(values) - self.known)
        if unknown:
            raise BatchError('%s: unknown key %r (keys are run_art.py\'s long flag names with '
                             'underscores; %s are set by --out-dir)' % (
                                 where, unknown[0], ' and '.join(PLACED)))
        try:
            given = arguments.settings_of(values)
        except ValueError as error:
            raise BatchError('%s: %s' % (where, error)) from None
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
    for key in INPUT_PATHS:
        if isinstance(values.get(key), str) and values[key] not in NAMED:
            values[key] = os.path.join(folder, values[key])
        elif isinstance(values.get(key), list):
            values[key] = [os.path.join(folder, path) if isinstance(path, str) else path
                           for path in values[key]]


def placed(job, out_dir, name):
    """The Job with its files under out_dir named after `name` (a clip's video NAME.mp4)."""
    if job.is_clip:
        return dataclasses.replace(job, output=os.path.join(out_dir, name + '.mp4'))
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
                job = placed(resolve(settings), out_dir, full)
            except (JobError, ImageError) as error:
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
            recorded = Job.from_dict(read_record(os.path.join(folder, name))['job'])
        except (RecordError, JobError) as error:
            raise BatchError('%s: %s' % (os.path.join(folder, name), error)) from None
        stem = os.path.splitext(name)[0]
        entries.append(Entry(stem, placed(recorded, out_dir, stem), number, ()))
    return entries


def earlier(entry):
    """(the Job, its status) the folder's record at the job's name holds, or None."""
    if not os.path.exists(entry.job.record_path):
        return None
    try:
        found = read_record(entry.job.record_path)
        return Job.from_dict(found['job']), found['outcome']['status']
    except (RecordError, JobError, KeyError, TypeError):
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
            check_files(entry.job)
        except (JobError, ImageError) as error:
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
