"""scipy's L-BFGS-B as a generator of iterates.

`scipy.optimize.minimize` runs its own loop and only reports through a
callback. To let the caller consume iterates one at a time (and stop, save
or report between them), the optimizer runs in a worker thread that hands
each iterate over and waits until the caller asks for the next. Only one of
the two threads works at any moment.
"""
import queue
import threading

import numpy as np
import scipy.optimize


class StopOptimization(Exception):
    """Raised by an objective to end the run; the iterates so far stand."""


def lbfgs_iterates(fun, x0, maxiter, bounds=None, history=10):
    """Minimise fun (x -> (f, grad)) from x0, yielding each new iterate x.

    At most `maxiter` iterations; fun may raise StopOptimization to end
    sooner. `bounds` is a pair of arrays (lower, upper) like x0, or None.
    Returns scipy's message when the optimizer ends by itself. Closing the
    generator stops the worker.
    """
    outbox, inbox = queue.Queue(), queue.Queue()
    stop = threading.Event()

    def objective(x):
        if stop.is_set():
            raise StopOptimization('stopped by the caller')
        return fun(x)

    def callback(intermediate_result):
        outbox.put(('iterate', np.array(intermediate_result.x)))
        if inbox.get() == 'stop':
            raise StopIteration

    def run():
        try:
            result = scipy.optimize.minimize(
                objective, x0, jac=True, method='L-BFGS-B', callback=callback,
                bounds=None if bounds is None else scipy.optimize.Bounds(*bounds),
                options={'maxiter': maxiter, 'maxfun': np.iinfo(np.int32).max,
                         'maxcor': history})
            outbox.put(('done', result.message))
        except StopOptimization as reason:
            outbox.put(('done', str(reason)))
        except BaseException as error:  # pylint: disable=broad-except
            # Handed to the caller's thread, which re-raises it.
            outbox.put(('error', error))

    worker = threading.Thread(target=run, name='lbfgs', daemon=True)
    worker.start()
    try:
        while True:
            kind, payload = outbox.get()
            if kind == 'iterate':
                yield payload
                inbox.put('go')
            elif kind == 'done':
                return payload
            else:
                raise payload
    finally:
        stop.set()
        inbox.put('stop')
        worker.join()
