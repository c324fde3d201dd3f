"""The record beside every painting: OUTPUT.json, enough to paint it again and check it.

A record holds the Job (every setting resolved), checksums of the inputs and
the weights, the environment the painting was made in, the outcome, and the
losses after every iteration. The run writes it atomically when it starts, at
every checkpoint and at the end, so an interrupted or failed run leaves one too.
docs/reproduce.md documents the format.
"""
import hashlib
import json
import os
import platform
import time

from art import __version__
from art.engine import cpu
from art.constants import FINISH_PRECISION
from art.io.files import file_sha256, write_text
from art.io.video import folder_frames
from art.app.job import Job, JobError
from art.app.settings import PICTURES, SETTING
from art.network.weights import KNOWN_FILES

FORMAT = 'art-record'
VERSION = 1
# Columns of the trajectory: one row per iteration, as the loss log has them; between
# `style` and `total` come the objective's other groups (trajectory_columns); `precision`
# is the arithmetic the row's losses were evaluated in.
TRAJECTORY_COLUMNS = ('iteration', 'evaluations', 'seconds', 'content', 'style', 'total',
                      'precision')
# The columns of the losses: content and style always, the other groups before the total.
LOSS_COLUMNS = ('content', 'style')


def trajectory_columns(groups):
    """The trajectory's columns for an objective of `groups` (Iterate.groups' keys): every
    group's loss, content and style first, then the total; TRAJECTORY_COLUMNS where there
    is no other group (every record from before groups)."""
    others = tuple(group for group in groups or () if group not in LOSS_COLUMNS)
    return TRAJECTORY_COLUMNS[:5] + others + TRAJECTORY_COLUMNS[5:]


def loss_names(columns):
    """The columns among a trajectory's `columns` that are losses (groups and total)."""
    return [column for column in columns
            if column not in ('iteration', 'evaluations', 'seconds', 'precision')]


def iterate_losses(iterate):
    """{group: loss} of an Iterate: content, style, the objective's other groups and the
    total, in the trajectory's order."""
    row = trajectory_row(trajectory_columns(iterate.groups), iterate, 0)
    return {name: row[name] for name in loss_names(row)}


def group_losses(iterate):
    """{GROUP_loss: value} of an Iterate's losses, as an outcome or a clip's frame records
    them."""
    return {'%s_loss' % name: value for name, value in iterate_losses(iterate).items()}


def trajectory_row(columns, iterate, seconds):
    """The trajectory's row of an Iterate, `seconds` into the run, as {column: value}."""
    groups = dict(iterate.groups or {}, content=iterate.content_loss,
                  style=iterate.style_loss, total=iterate.total_loss)
    row = {'iteration': iterate.iteration, 'evaluations': iterate.evaluations,
           'seconds': round(seconds, 3), 'precision': iterate.precision}
    return {column: row[column] if column in row else float(groups.get(column, 0.0))
            for column in columns}


class RecordError(ValueError):
    """A record that cannot be read or replayed; the message names the file."""


def describe_file(path):
    """path, size in bytes and SHA-256 of an input file; of a folder of frames, their
    count, their bytes and the SHA-256 of their SHA-256s in order."""
    if os.path.isdir(path):
        frames = folder_frames(path)
        digest = hashlib.sha256(''.join(file_sha256(frame) for frame in frames).encode())
        return {'path': path, 'bytes': sum(os.path.getsize(frame) for frame in frames),
                'sha256': digest.hexdigest(), 'frames': len(frames)}
    return {'path': path, 'bytes': os.path.getsize(path), 'sha256': file_sha256(path)}


def describe_inputs(job):
    """The pictures the Job reads (art.app.settings.PICTURES) as a record lists them: a list
    for a setting of several, None for one not given."""
    described = {name: [] if SETTING[name].plural else None for name in PICTURES}
    for setting, path in job.input_pictures():
        if setting.plural:
            described[setting.name].append(describe_file(path))
        else:
            described[setting.name] = describe_file(path)
    return described


def device_line(environment_now):
    """What a run computes on, in one line: the GPU's name, or the CPU with its
    instruction sets and oneDNN's kernels; and the precision, with why."""
    cpu_now = environment_now['cpu']
    sets = ' '.join(name.upper() for name in cpu_now['instruction_sets']) or 'no AVX'
    line = 'CPU %s, %d cores (%s; oneDNN %s)' % (
        cpu_now['model'], cpu_now['cores'], sets,
        'on, %s kernels%s' % (cpu_now['onednn_isa'], ', system allocator'
                              if cpu_now.get('allocator') == 'system' else '')
        if cpu_now['onednn'] else 'off')
    if environment_now['gpus']:
        line = 'GPU %s, beside %s' % (', '.join(environment_now['gpus']), line)
    return '%s; %s' % (line, precision_words(environment_now['precision']['bulk'],
                                              environment_now['precision']['why']))


def precision_words(bulk, why):
    """The precision of a painting in words: its bulk's, why, and its finish."""
    if bulk == FINISH_PRECISION:
        return '%s (%s)' % (bulk, why)
    return '%s (%s), finishing in %s' % (bulk, why, FINISH_PRECISION)


def environment(session_config=None, precision=None):
    """Versions, processor, GPUs, threads and precision of this process (TensorFlow already
    imported). `precision` is (bulk precision, why) as art.engine.cpu.choose_precision gives it."""
    import numpy  # pylint: disable=import-outside-toplevel
    import scipy  # pylint: disable=import-outside-toplevel
    threads = None
    if session_config is not None:
        threads = {'intra_op': session_config.intra_op_parallelism_threads,
                   'inter_op': session_config.inter_op_parallelism_threads}
    return {'art': __version__, 'python': platform.python_version(),
            'tensorflow': cpu.tensorflow_version(), 'numpy': numpy.__version__,
            'scipy': scipy.__version__, 'platform': platform.platform(), 'cpu': cpu.describe(),
            'gpus': cpu.gpu_names(), 'threads': threads,
            'precision': {'bulk': precision[0], 'finish': FINISH_PRECISION, 'why': precision[1]}
            if precision else None}


def trajectory(record):
    """A record's trajectory as {column: value} rows (a row from before `precision` is
    float32's)."""
    columns = record['trajectory']['columns']
    return [dict({'precision': FINISH_PRECISION}, **dict(zip(columns, row)))
            for row in record['trajectory']['rows']]


def new_record(job, inputs, weights, environment_now):
    """A record of a run that is starting."""
    return {'format': FORMAT, 'version': VERSION, 'job': job.to_dict(), 'inputs': inputs,
            'weights': weights, 'environment': environment_now,
            'started': time.strftime('%Y-%m-%dT%H:%M:%S%z'),
            'outcome': {'status': 'running', 'reason': None, 'iterations': 0,
                        'evaluations': 0, 'seconds': 0.0, 'content_loss': None,
                        'style_loss': None, 'total_loss': None, 'image_sha256': None},
            'checkpoints': [], 'trajectory': {'columns': list(TRAJECTORY_COLUMNS), 'rows': []}}


def to_json(value, indent=''):
    """JSON with one key per line, and each list of plain values (a trajectory row, a
    layer and its weight) on a line of its own."""
    inner = indent + ' '
    if isinstance(value, dict) and value:
        items = ['%s%s: %s' % (inner, json.dumps(key), to_json(item, inner))
                 for key, item in value.items()]
        return '{\n%s\n%s}' % (',\n'.join(items), indent)
    if isinstance(value, (list, tuple)) and any(isinstance(item, (dict, list, tuple))
                                                for item in value):
        items = [inner + to_json(item, inner) for item in value]
        return '[\n%s\n%s]' % (',\n'.join(items), indent)
    return json.dumps(value)


def write_record(path, record):
    """Write the record as JSON, atomically."""
    write_text(path, to_json(record) + '\n')


def read_record(path):
    """A record from its file, checked for format and version; RecordError says what is wrong."""
    if os.path.isdir(path):
        raise RecordError('%s: is a folder, not a record' % path)
    if os.path.exists(path) and not os.path.isfile(path):
        raise RecordError('%s: is not a regular file (a named pipe or a device), not a record'
                          % path)
    try:
        with open(path, encoding='utf-8') as handle:
            record = json.load(handle)
    except FileNotFoundError:
        raise RecordError('%s: file not found' % path) from None
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise RecordError('%s: not a readable record (%s)' % (path, error)) from None
    if not isinstance(record, dict) or record.get('format') != FORMAT:
        raise RecordError('%s: not an art record (no "format": "%s")' % (path, FORMAT))
    if record.get('version') != VERSION:
        raise RecordError('%s: record format version %r; this art reads version %d'
                          % (path, record.get('version'), VERSION))
    for key in ('job', 'inputs', 'weights', 'environment', 'outcome', 'trajectory'):
        if not isinstance(record.get(key), dict):
            raise RecordError('%s: the record has no "%s" section' % (path, key))
    return record


def recorded_job(record, path, **overrides):
    """The record's Job, with `overrides` (not None) replacing its settings."""
    values = dict(record['job'])
    values.update((name, value) for name, value in overrides.items() if value is not None)
    try:
        return Job.from_dict(values)
    except JobError as error:
        raise RecordError('%s: %s' % (path, error)) from None


def check_inputs(record, job, path):
    """RecordError unless every input of `job` has the SHA-256 the record holds."""
    recorded, checks = record['inputs'], []
    for name in PICTURES:
        setting, given = SETTING[name], getattr(job, name)
        if not setting.plural:
            if given:
                checks.append((setting.noun, setting.flag, recorded.get(name), given))
            continue
        entries = recorded.get(name) or []
        if len(entries) != len(given):
            raise RecordError('%s: the record has %d %ss, %d given' % (
                path, len(entries), setting.noun, len(given)))
        checks += [(setting.noun, setting.flag, entry, actual)
                   for entry, actual in zip(entries, given)]
    for what, option, entry, actual in checks:
        if not os.path.isfile(actual):
            raise RecordError('%s %s: file not found; if it moved, give its new path with %s'
                              % (what, actual, option))
        if file_sha256(actual) != (entry or {}).get('sha256'):
            raise RecordError('%s %s has changed: its SHA-256 is not the one in %s'
                              % (what, actual, path))
    # A published network that is missing is downloaded again (its MD5 is checked then);
    # no download can bring back any other.
    if not job.named_weights and not os.path.exists(job.weights) \
            and record['weights'].get('md5') not in KNOWN_FILES:
        raise RecordError('weights file %s: file not found; if it moved, give its new path '
                          'with --weights' % job.weights)


def environment_differences(recorded, current, prefix=''):
    """[(key, recorded value, current value)] where two environments differ."""
    differences = []
    for key in sorted(set(recorded) | set(current)):
        old, new = recorded.get(key), current.get(key)
        if isinstance(old, dict) and isinstance(new, dict):
            differences += environment_differences(old, new, prefix + key + '.')
        elif old != new:
            differences.append((prefix + key, old, new))
    return differences
