"""Replay and verify: paint a recorded Job again, and check it against its record.

`replay` paints the record's Job again (inputs checked against their
SHA-256, the weights against their MD5). `verify` replays into a temporary
folder and compares losses at every recorded checkpoint, the final losses,
the final image and the environment: the regression test a user runs after
an upgrade or on a new machine, from the command line (`--verify`) or from
Python (`art.verify(path)`).
"""
import dataclasses
import math
import os
import tempfile

import numpy as np

from art.io import files
from art.app import runner
from art.app.job_files import check_files
from art.app.record import (RecordError, check_inputs, environment_differences, loss_names,
                            read_record, recorded_job, trajectory)

LOSS_TOLERANCE = 1e-4
IMAGE_TOLERANCE = 2
# Environment keys whose change changes the kernels or how work is split among
# threads, and so the rounding: bit-for-bit replay needs them all unchanged.
KERNEL_KEYS = ('tensorflow', 'cpu.model', 'cpu.cores', 'cpu.onednn', 'cpu.onednn_isa',
               'threads.intra_op', 'threads.inter_op', 'precision.bulk')


@dataclasses.dataclass
class Check:
    """One comparison: what, the recorded and replayed values, the error, its limit, passed."""
    what: str
    recorded: str
    replayed: str
    error: str
    limit: str
    passed: bool


@dataclasses.dataclass
class VerifyReport:
    """The checks of one verification and the environment's differences (key, then, now)."""
    record: str
    checks: list
    environment: list

    @property
    def passed(self):
        return all(check.passed for check in self.checks)

    def table(self):
        """The report as the lines `--verify` prints."""
        header = ('check', 'recorded', 'replayed', 'error', 'limit', '')
        rows = [header] + [(c.what, c.recorded, c.replayed, c.error, c.limit,
                            'ok' if c.passed else 'FAILED') for c in self.checks]
        widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
        lines = ['verify %s' % self.record]
        lines += ['  '.join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip()
                  for row in rows]
        if self.environment:
            lines.append('environment differences (recorded -> now):')
            lines += ['  %s: %s -> %s' % difference for difference in self.environment]
            if any(key in KERNEL_KEYS for key, _, _ in self.environment):
                lines.append('note: other kernels or threads round differently; an evaluation '
                             'agrees to about 1e-7, but L-BFGS magnifies the difference, so '
                             'later losses and the image drift (see docs/reproduce.md)')
        else:
            lines.append('environment: the same as recorded')
        lines.append('%s: %d of %d checks within limits' % (
            'PASSED' if self.passed else 'FAILED', sum(c.passed for c in self.checks),
            len(self.checks)))
        return lines


def _job_for_replay(record, path, output, **moved):
    """The record's Job, writing to `output`, inputs moved where given, all checked; a
    clip's record is refused (its own command goes on with it)."""
    if 'frames' in record:
        raise RecordError('%s is the record of a clip: run the command that painted it again '
                          'to go on with it; --replay and --verify repeat pictures' % path)
    job = recorded_job(record, path, output=os.path.abspath(output), **moved)
    check_inputs(record, job, path)
    return job


def replay_output(record):
    """Where a replay writes by default: OUTPUT-replay.EXT beside the recorded output."""
    stem, extension = os.path.splitext(record['job']['output'])
    return '%s-replay%s' % (stem, extension)


def replay(path, say, output=None, loss_log=None, **moved):
    """Paint the Job recorded at `path` again; the exit code. `moved` holds new paths of
    the content, style (a list), init_image or weights."""
    record = read_record(path)
    output = output or replay_output(record)
    if loss_log is None and record['job']['loss_log']:
        # Beside the new image, never over the recorded run's log.
        loss_log = os.path.splitext(output)[0] + '-log.csv'
    job = _job_for_replay(record, path, output, loss_log=loss_log, **moved)
    check_files(job)
    return runner.run(job, say, weights_md5=record['weights']['md5'])


def relative_error(replayed, recorded):
    """|replayed - recorded| relative to |recorded| (absolute where it is 0)."""
    if replayed is None or recorded is None:
        return math.inf
    scale = abs(recorded) or 1.0
    return abs(replayed - recorded) / scale


def _loss_checks(recorded_rows, replayed_rows, losses, tolerance, label):
    """A check per row pair: the largest relative error of the `losses` (each group's and
    the total)."""
    checks = []
    for old, new in zip(recorded_rows, replayed_rows):
        error = max(relative_error(new.get(name), old.get(name)) for name in losses)
        checks.append(Check(label % old, '%.9g' % old['total'], '%.9g' % new['total'],
                            '%.2g' % error, '%g' % tolerance, error <= tolerance))
    return checks


def _image_check(record, replayed_path, tolerance):
    """The replayed image against the recorded one: largest difference in levels, PSNR."""
    original = record['job']['output']
    recorded_sha = record['outcome'].get('image_sha256')
    replayed_sha = files.file_sha256(replayed_path)
    if not (os.path.isfile(original) and files.file_sha256(original) == recorded_sha):
        same = replayed_sha == recorded_sha
        return Check('final image', 'missing or changed', 'sha256 %s' % replayed_sha[:12],
                     'bytes %s' % ('equal' if same else 'differ'), 'equal bytes', same)
    old = files.read_rgb(original).astype(np.int16)
    new = files.read_rgb(replayed_path).astype(np.int16)
    if old.shape != new.shape:
        return Check('final image', '%dx%d' % old.shape[1::-1], '%dx%d' % new.shape[1::-1],
                     'sizes differ', '%d levels' % tolerance, False)
    largest = int(np.abs(new - old).max())
    mse = float(np.mean((new - old).astype(np.float64) ** 2))
    psnr = 'inf' if mse == 0 else '%.1f' % (10 * math.log10(255.0 ** 2 / mse))
    return Check('final image', 'sha256 %s' % recorded_sha[:12], 'sha256 %s' % replayed_sha[:12],
                 'max %d levels, PSNR %s dB' % (largest, psnr), '%d levels' % tolerance,
                 largest <= tolerance)


def _outcome_check(old, new):
    """The replay ended as the recorded run did: done; failed, for the same reason; or,
    for a run that was interrupted (or killed while 'running'), stopped where it stopped."""
    expected = 'interrupted' if old['status'] in ('interrupted', 'running') else old['status']
    passed = new['status'] == expected and (expected != 'failed'
                                            or new['reason'] == old['reason'])
    return Check('outcome', old['status'], new['status'], '', 'equal', passed)


def compare(record, replayed, replayed_image, loss_tolerance, image_tolerance, path='record'):
    """A VerifyReport of a replay's record (and image) against the original record."""
    losses = loss_names(record['trajectory']['columns'])
    checks = _loss_checks(record['checkpoints'], replayed['checkpoints'], losses,
                          loss_tolerance, 'losses at iteration %(iteration)d')
    old, new = record['outcome'], replayed['outcome']
    checks.append(_outcome_check(old, new))
    checks.append(Check('iterations, evaluations', '%s, %s' % (old['iterations'],
                                                                old['evaluations']),
                        '%s, %s' % (new['iterations'], new['evaluations']), '', 'equal',
                        (old['iterations'], old['evaluations']) == (new['iterations'],
                                                                    new['evaluations'])))
    final = [{name: run.get(name + '_loss') for name in losses} for run in (old, new)]
    final[0]['iteration'] = old['iterations']
    if old['total_loss'] is not None:
        checks += _loss_checks(final[:1], final[1:], losses, loss_tolerance, 'final losses')
    rows = [trajectory(record), trajectory(replayed)]
    errors = [relative_error(b.get(loss), a.get(loss)) for a, b in zip(*rows)
              for loss in losses]
    worst = max(errors) if errors else 0.0
    checks.append(Check('losses at every iteration', '%d rows' % len(rows[0]),
                        '%d rows' % len(rows[1]), 'max %.2g' % worst, '%g' % loss_tolerance,
                        len(rows[0]) == len(rows[1]) and worst <= loss_tolerance))
    if old['image_sha256']:
        checks.append(_image_check(record, replayed_image, image_tolerance))
    return VerifyReport(str(path), checks, environment_differences(record['environment'],
                                                                   replayed['environment']))


def verify(record_path, loss_tolerance=LOSS_TOLERANCE, image_tolerance=IMAGE_TOLERANCE,
           say=None, **moved):
    """Replay the record at `record_path` in a temporary folder and compare; a VerifyReport.

    A run recorded as interrupted is replayed to the iteration where it ended; a
    failed one until it fails, which it must do at the same point for the same
    reason. `moved` holds new paths of inputs (content, style, init_image,
    weights). Raises RecordError, JobError, ImageError or runner.UsageError
    for bad input.
    """
    say = say or (lambda line: None)
    record = read_record(record_path)
    with tempfile.TemporaryDirectory(prefix='art-verify-') as folder:
        name = os.path.basename(record['job']['output'])
        loss_log = os.path.join(folder, 'losses.csv') if record['job']['loss_log'] else None
        job = _job_for_replay(record, record_path, os.path.join(folder, name),
                              loss_log=loss_log, **moved)
        check_files(job)
        # A run that was stopped is replayed to where it stopped; one that ended by itself
        # (its iterations, L-BFGS's own test, --min-progress, a failure) ends so again.
        stopped = record['outcome']['status'] in ('interrupted', 'running')
        runner.run(job, say, weights_md5=record['weights']['md5'],
                   last_iteration=record['outcome']['iterations'] if stopped else None)
        replayed = read_record(job.record_path)
        return compare(record, replayed, job.output, loss_tolerance, image_tolerance,
                       record_path)

