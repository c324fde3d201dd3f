"""The optimizers: generators of Iterates over a Painting, each keeping its own state.

- `lbfgs`: scipy's L-BFGS-B. `scipy.optimize.minimize` runs its own loop and
  only reports through a callback; to let the caller consume iterates one at
  a time (and stop, save or report between them), it runs in a worker thread
  that hands each iterate over and waits until the caller asks for the next.
  Only one of the two threads works at any moment.
- `adam`: art.py's loop, `tf.train.AdamOptimizer` steps built into the graph.
"""
import collections
import math
import queue
import threading

import numpy as np
import scipy.optimize
from threadpoolctl import threadpool_limits

from art.constants import FINISH_PRECISION, LBFGS_HISTORY, MEAN_VALUES

# One state of the painting: `image` (network space) and its losses, after
# `iteration` optimizer iterations and `evaluations` loss+gradient evaluations;
# `precision` is the arithmetic the losses were evaluated in.
Iterate = collections.namedtuple(
    'Iterate', 'iteration evaluations content_loss style_loss total_loss image precision',
    defaults=('float32',))
# A bfloat16 painting's float32 finish: at least this share of the iterations
# (and of an evaluation budget), more when bfloat16 stalls first: when its total
# loss falls by less than STALL_DECREASE (relative) over STALL_WINDOW
# iterations, when one L-BFGS iteration needs more than BULK_PATIENCE
# evaluations (its line search lost in bfloat16's rounding), or when L-BFGS
# gives up by itself. bench/RESULTS.md measures the choice.
FINISH_SHARE = 0.1
STALL_WINDOW = 10
STALL_DECREASE = 1e-3
BULK_PATIENCE = 4


class NonFiniteLoss(ArithmeticError):
    """The loss became NaN or infinite; the last finite iterate is the result."""


def check_finite(total):
    """Raise NonFiniteLoss if the total loss is NaN or infinite."""
    if not np.isfinite(total):
        raise NonFiniteLoss('the total loss became %s' % total)


class StopOptimization(Exception):
    """Raised by an objective to end the run; the iterates so far stand."""


def lbfgs_iterates(loss, gradient, x0, maxiter, bounds=None, history=LBFGS_HISTORY):
    """Minimise loss (x -> f), whose gradient is gradient (x -> float64 array), from x0,
    yielding each new iterate x.

    At most `maxiter` iterations; either function may raise StopOptimization
    to end sooner. `bounds` is a pair of arrays (lower, upper) like x0, or
    None. Returns scipy's message when the optimizer ends by itself. Closing
    the generator stops the worker.

    The two are handed to scipy apart, not as one function with jac=True:
    scipy memoizes such a function with a float64 copy of x of its own (0.27
    GiB at 4000x3000). LbfgsObjective remembers its last evaluation, so loss
    and gradient at one x cost one.
    """
    outbox, inbox = queue.Queue(), queue.Queue()
    stop = threading.Event()

    def stoppable(function):
        def call(x):
            if stop.is_set():
                raise StopOptimization('stopped by the caller')
            return function(x)
        return call

    def callback(intermediate_result):
        outbox.put(('iterate', np.array(intermediate_result.x)))
        if inbox.get() == 'stop':
            raise StopIteration

    def run():
        try:
            result = scipy.optimize.minimize(
                stoppable(loss), x0, jac=stoppable(gradient), method='L-BFGS-B',
                callback=callback,
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
                # The caller has it: not kept through the next iteration's evaluations.
                del payload
                inbox.put('go')
            elif kind == 'done':
                return payload
            else:
                raise payload
    finally:
        stop.set()
        inbox.put('stop')
        worker.join()


def pixel_bounds(shape):
    """Lower and upper bounds (network space) that keep pixels within 0..255."""
    lower = np.broadcast_to(-MEAN_VALUES, shape).astype(np.float64).ravel()
    return lower, lower + 255.0


class LbfgsObjective:
    """scipy's objective over a Painting: float64 x in, the total loss or its float64
    gradient out.

    The last evaluation is remembered: scipy asks for the loss and then the
    gradient at one x, and again for the start, and iterates are reported
    with the losses of their own evaluation. With `max_evaluations`, no more
    evaluations are spent; with `patience`, no iteration after the first
    spends more than that many (a line search lost in rounding noise).
    """

    def __init__(self, painting, max_evaluations=None, patience=None):
        self.painting = painting
        self.max_evaluations = max_evaluations
        self.patience = patience
        self.spent = 0
        # Evaluations spent when the last iterate was reported, and its iteration.
        self.reported = (0, 0)
        # The float32 image, (content, style, total) and float32 gradient of the last
        # evaluation: x that round to one image evaluate alike, and at print sizes
        # float32 halves what is kept beside L-BFGS-B's own float64 state.
        self.last = None

    def loss(self, x):
        """The total loss at x."""
        self.evaluate(x)
        return float(self.last[1][2])

    def gradient(self, x):
        """The total loss's gradient at x, flat and float64 as L-BFGS-B works in."""
        self.evaluate(x)
        return self.last[2].ravel().astype(np.float64)

    def evaluate(self, x):
        """Evaluate the painting at x unless x rounds to the image evaluated last."""
        image = self.image(x)
        if self.last is not None and np.array_equal(self.last[0], image):
            return
        if self.max_evaluations is not None and self.spent >= self.max_evaluations:
            raise StopOptimization('evaluation budget of %d spent' % self.max_evaluations)
        spent, iteration = self.reported
        if self.patience is not None and iteration >= 1 and self.spent - spent >= self.patience:
            raise StopOptimization('iteration %d took more than %d evaluations'
                                   % (iteration + 1, self.patience))
        content, style, total, gradient = self.painting.evaluate(image)
        self.spent += 1
        check_finite(total)
        self.last = (image, (content, style, total), gradient)

    def image(self, x):
        """x as the painting's float32 image."""
        return x.reshape(self.painting.shape).astype(np.float32)

    def iterate(self, iteration, x):
        """An Iterate for x, with the losses of its evaluation."""
        self.evaluate(x)
        self.reported = (self.spent, iteration)
        return Iterate(iteration, self.spent, *self.last[1], self.last[0],
                       self.painting.precision)


def lbfgs(painting, initial_image, iterations, bounds=False, max_evaluations=None,
          history=LBFGS_HISTORY, blas_threads=1, patience=None):
    """Yield Iterates 0..iterations of scipy's L-BFGS-B on `painting` from initial_image.

    With `bounds`, pixels stay within 0..255 once the mean is added back.
    With `max_evaluations`, no more loss+gradient evaluations are spent; with
    `patience`, L-BFGS stops when an iteration after the first needs more.
    `history` is the number of correction pairs L-BFGS keeps (scipy's maxcor).
    The result is left in the painting's variable.

    NumPy's and SciPy's BLAS run on `blas_threads` threads (None: as they
    are) while this runs: L-BFGS-B's vector operations are memory-bound, and
    idle BLAS workers spinning after each one take the cores from
    TensorFlow's threads (bench/RESULTS.md measures it).
    """
    x0 = np.asarray(initial_image, dtype=np.float64).ravel()
    limits = pixel_bounds(painting.shape) if bounds else None
    if limits is not None:
        x0 = np.clip(x0, *limits)
    objective = LbfgsObjective(painting, max_evaluations, patience)
    with threadpool_limits(limits=blas_threads, user_api='blas'):
        current = objective.iterate(0, x0)
        yield current
        steps = lbfgs_iterates(objective.loss, objective.gradient, x0, iterations, bounds=limits,
                               history=history)
        try:
            # Each x is a float64 copy of the image (0.27 GiB at 4000x3000), not to be
            # held beside the next iteration's evaluations: hence no enumerate, whose
            # result tuple keeps the last one.
            iteration = 0
            for x in steps:
                iteration += 1
                current = objective.iterate(iteration, x)
                del x
                yield current
        finally:
            steps.close()
    painting.assign(current.image)


def adam(painting, initial_image, iterations, restart=True):
    """Yield Iterates 0..iterations of art.py's Adam loop on `painting` from initial_image.

    As art.py: all variables re-initialized, the start assigned, one train
    step per iteration. Each step's run also returns the losses and image it
    started from, so Iterate k is yielded during step k+1 and the last one
    costs a forward pass only. Without `restart`, Adam goes on from the image
    and moments the painting holds (a finish after `Painting.switch`).
    """
    if restart:
        painting.reset_adam(initial_image)
    for step in range(1, iterations + 1):
        content, style, total, image = painting.adam_step()
        check_finite(total)
        yield Iterate(step - 1, step, content, style, total, image, painting.precision)
    content, style, total, image = painting.losses_and_image()
    check_finite(total)
    yield Iterate(iterations, iterations, content, style, total, image, painting.precision)


def stalled(totals, window, decrease):
    """True when the last `window` iterations lowered the total loss by less than
    `decrease` of it."""
    return len(totals) > window and totals[-window - 1] - totals[-1] < decrease * abs(totals[-1])


def finish_share(count):
    """How many of `count` iterations or evaluations a float32 finish keeps at least."""
    return max(1, math.ceil(count * FINISH_SHARE))


def _one_precision(painting, initial_image, iterations, bounds, max_evaluations, history,
                   restart=True, patience=None):
    """Iterates of the painting's optimizer in the precision it now runs in."""
    if painting.optimizer == 'adam':
        return adam(painting, initial_image, iterations, restart)
    return lbfgs(painting, initial_image, iterations, bounds=bounds,
                 max_evaluations=max_evaluations, history=history, patience=patience)


def bulk_then_finish(painting, initial_image, iterations, bounds=False, max_evaluations=None,
                     history=LBFGS_HISTORY):
    """Iterates of a painting whose bulk runs in a faster precision and ends in float32.

    The bulk stops at the last FINISH_SHARE of the iterations, or sooner when
    L-BFGS stalls, loses its way or ends by itself; the painting then switches to float32 and
    the optimizer goes on from the bulk's image for the iterations left:
    L-BFGS with a fresh history (its pairs hold bfloat16's rounding), Adam
    with its moments carried over. Iterations and evaluations count on; the
    switch point is yielded again only when the finish cannot go on.
    """
    bulk_iterations = max(0, iterations - finish_share(iterations))
    bulk_budget = None
    if max_evaluations is not None:
        bulk_budget = max(1, max_evaluations - finish_share(max_evaluations))
    bulk = _one_precision(painting, initial_image, bulk_iterations, bounds, bulk_budget, history,
                          patience=BULK_PATIENCE)
    totals, last = [], None
    try:
        for iterate in bulk:
            yield iterate
            last = iterate
            totals.append(iterate.total_loss)
            if painting.optimizer == 'lbfgs' and stalled(totals, STALL_WINDOW, STALL_DECREASE):
                break
    finally:
        bulk.close()
    painting.switch(FINISH_PRECISION)
    budget = None if max_evaluations is None else max_evaluations - last.evaluations
    finish = _one_precision(painting, last.image, iterations - last.iteration, bounds, budget,
                            history, restart=False)
    switch_point, went_on = next(finish), False
    for iterate in finish:
        went_on = True
        yield counted_on(iterate, last)
    if not went_on:
        # The finish could not go on (its evaluations spent, or float32 L-BFGS ended at
        # once): the switch point again, with float32's losses, so a painting ends in float32.
        yield counted_on(switch_point, last)


def counted_on(iterate, last):
    """`iterate` of an optimizer that started where `last` ended, counted on from it."""
    return iterate._replace(iteration=iterate.iteration + last.iteration,
                            evaluations=iterate.evaluations + last.evaluations)


def optimize(painting, initial_image, iterations, bounds=False, max_evaluations=None,
             history=LBFGS_HISTORY):
    """Iterates of the optimizer the painting was built for ('lbfgs' or 'adam'), finished
    in float32 when the painting starts in another precision."""
    if painting.precision != FINISH_PRECISION:
        return bulk_then_finish(painting, initial_image, iterations, bounds, max_evaluations,
                                history)
    return _one_precision(painting, initial_image, iterations, bounds, max_evaluations, history)
