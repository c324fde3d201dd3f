"""Every way a run can end badly, and the exit code and words each ends with.

The command line, a batch's worker and the painting itself meet the same
failures; `ending_of` maps each to one (exit code, status, reason), so the
three say alike what happened.
"""
import collections

from art.io.files import ImageError, WriteError
from art.io.video import VideoError
from art.app.job import JobError
from art.app.record import RecordError
from art.network.weights import WeightsError

EXIT_FAILED, EXIT_USAGE, EXIT_SIGINT, EXIT_SIGTERM = 1, 2, 130, 143


class UsageError(Exception):
    """Bad input found while running: shown as one line, exit code 2."""


class Terminated(BaseException):
    """SIGTERM, raised in the main thread like KeyboardInterrupt for SIGINT."""


# How a run ended: its exit code, its status in the record ('done', 'interrupted',
# 'failed') and the reason, said and recorded.
Ending = collections.namedtuple('Ending', 'code status reason', defaults=(None,))
# The failures a user can mend: reported in one line, exit 2.
EXPECTED_ERRORS = (UsageError, JobError, WeightsError, ImageError, RecordError, VideoError)
STOPS = (KeyboardInterrupt, Terminated)


def stopped_by(stop):
    """(exit code, signal name) of a KeyboardInterrupt or Terminated."""
    return (EXIT_SIGTERM, 'SIGTERM') if isinstance(stop, Terminated) else (EXIT_SIGINT, 'SIGINT')


def ending_of(error):
    """The Ending of a run that `error` ended: a mendable failure exit 2, a stop its
    signal's code, a file that could not be written or anything else exit 1."""
    if isinstance(error, EXPECTED_ERRORS):
        return Ending(EXIT_USAGE, 'failed', 'error: %s' % error)
    if isinstance(error, STOPS):
        code, name = stopped_by(error)
        return Ending(code, 'interrupted', 'interrupted (%s)' % name)
    if isinstance(error, WriteError):
        return Ending(EXIT_FAILED, 'failed', 'error: %s' % error)
    return Ending(EXIT_FAILED, 'failed', 'failed: %s: %s' % (type(error).__name__, error))
