"""One job of a batch painted in a worker (a process here or a Ray task), and how it
ended (Outcome)."""
import collections

from art.app import runner
from art.app.record import RecordError, read_record
from art.app.errors import STOPS, EXIT_SIGINT, EXIT_SIGTERM, ending_of, stopped_by



# How a job ended: status done, failed, interrupted or skipped; reason; the record's outcome.
Outcome = collections.namedtuple('Outcome', 'status reason result')


def outcome_of(entry, code, reason):
    """The Outcome of a job that ended with `code`, from its record where it has one."""
    try:
        result = read_record(entry.job.record_path)['outcome']
    except RecordError:
        result = None
    if result is None or result.get('status') == 'running':
        return Outcome('interrupted' if code in (EXIT_SIGINT, EXIT_SIGTERM) else 'failed',
                       reason or 'worker lost (exit code %s)' % code, result)
    return Outcome(result['status'], result['reason'] or reason, result)


def paint_one(job, say, loaded=None, board=None):
    """Paint `job` in this (worker) process, shown on `board` (as runner.run's); (exit code,
    reason or None), its reason said.

    What the command line reports in one line becomes the job's reason here.
    """
    try:
        code, reason = runner.run(job, say, loaded=loaded, board=board), None
    except STOPS as stop:
        code, name = stopped_by(stop)
        reason = 'interrupted (%s) before painting started' % name
    except Exception as error:  # pylint: disable=broad-except
        code, _, reason = ending_of(error)
    if reason:
        say(reason)
    return code, reason
