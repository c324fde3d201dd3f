"""A stop that does not wait for the evaluation under way.

Python runs a signal's handler in the main thread between two bytecodes, a wait on a lock
wakes only for a signal that the waiting thread itself took, and TensorFlow's executor
finishes a step it has begun (neither closing the session nor a RunOptions timeout cuts it
short: bench/RESULTS.md). So a SIGINT or SIGTERM during `sess.run` would wait for it:
seconds at 800x600, minutes at print sizes. Here:
- the main thread never runs a step itself: `in_worker` runs it in a worker thread (L-BFGS
  runs in a thread of its own already) and waits in turns (`get`), so the handler raises
  KeyboardInterrupt or Terminated within WAKE_SECONDS, and the painting ends with the
  iterate before that evaluation;
- a StoppableSession closed while its step runs is closed when the step ends (closing it
  at once would wait for the step);
- `leave` ends the process at once while a step still runs.
No TensorFlow here: sessions come in made.
"""
import os
import queue
import sys
import threading

# How often the main thread, waiting for a step, looks for a signal's handler to run.
WAKE_SECONDS = 0.05
_tasks = queue.SimpleQueue()
_workers = []
_lock = threading.Lock()
_running = [0]  # steps under way, in every StoppableSession


def get(box):
    """box.get(), waiting in turns so that a signal's handler runs within WAKE_SECONDS."""
    while True:
        try:
            return box.get(timeout=WAKE_SECONDS)
        except queue.Empty:
            pass


def _work():
    while True:
        call, answer = _tasks.get()
        try:
            answer.put((True, call()))
        except BaseException as error:  # pylint: disable=broad-except  (handed to the waiter)
            answer.put((False, error))


def in_worker(call):
    """call() in the worker thread (a daemon, started on first use), waited for with `get`;
    a stop raised meanwhile leaves it running. Outside the main thread, which alone runs
    signal handlers, call() is made directly."""
    if threading.current_thread() is not threading.main_thread():
        return call()
    with _lock:
        if not _workers:
            _workers.append(threading.Thread(target=_work, daemon=True, name='art-steps'))
            _workers[0].start()
    answer = queue.SimpleQueue()
    _tasks.put((call, answer))
    returned, value = get(answer)
    if not returned:
        raise value
    return value


def running():
    """True while a step of a StoppableSession is under way."""
    with _lock:
        return _running[0] > 0


class StoppableSession:
    """A tf.compat.v1.Session whose steps a stop does not wait for (see the module)."""

    def __init__(self, session):
        self.session = session
        self._steps = 0
        self._close_after_step = False

    def _step(self, *args, **kwargs):
        with _lock:
            self._steps += 1
            _running[0] += 1
        try:
            return self.session.run(*args, **kwargs)
        finally:
            with _lock:
                self._steps -= 1
                _running[0] -= 1
                close = self._close_after_step and not self._steps
            if close:
                self.session.close()

    def run(self, *args, **kwargs):
        return in_worker(lambda: self._step(*args, **kwargs))

    def close(self):
        """Close now, or when the step under way ends."""
        with _lock:
            if self._steps:
                self._close_after_step = True
                return
        self.session.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def __getattr__(self, name):
        return getattr(self.session, name)


def leave(code):
    """`code`, for sys.exit; while a step still runs (a stop left it), the process ends at
    once with `code` instead (its output flushed), not after the step and TensorFlow's
    teardown."""
    if running():
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)  # pylint: disable=protected-access
    return code
