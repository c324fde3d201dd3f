"""The optimizers: generators of Iterates over an evaluator (art.engine.evaluator.Evaluator:
a Painting or a TiledPainting), each keeping its own state.

- `lbfgs`: scipy's L-BFGS-B, whose loop reports only through a callback, runs in a
  worker thread that hands each iterate over and waits until the caller (who may stop,
  save or report between them) asks for the next: one of the two threads works at once.
- `adam`: art.py's loop: `tf.train.AdamOptimizer` steps built into the graph, or on
  tiles the same update in numpy (art.engine.adam_moments).
"""
import collections
import dataclasses
import math
import queue
import threading
from typing import TYPE_CHECKING, Optional

import numpy as np
import scipy.optimize
from threadpoolctl import threadpool_limits

from art.constants import FINISH_PRECISION, LBFGS_HISTORY, MEAN_VALUES, MIXED_PRECISION
from art.engine import stops

if TYPE_CHECKING:  # the optimizers see evaluators through their Protocol only
    from art.engine.evaluator import Evaluator

# One state of the painting: `image` (network space) and its losses, after `iteration`
# optimizer iterations and `evaluations` loss+gradient evaluations; `precision` is the
# arithmetic the losses were evaluated in; `groups` every group's loss (Losses.groups).
Iterate = collections.namedtuple(
    'Iterate', 'iteration evaluations content_loss style_loss total_loss image precision groups',
    defaults=('float32', None))


@dataclasses.dataclass(frozen=True)
class SwitchPolicy:
    """When a bfloat16 painting moves through its phases (Evaluator.phases).

    bfloat16 while its evaluations are worth their rounding, checked every
    `noise_window` iterations: while `noise_share` of what the total loss fell
    per iteration, on average over the window, is more than bfloat16's loss
    differs from float32's at the last image (one float32 forward pass); and
    while no L-BFGS iteration needs more than `bulk_patience` evaluations (a
    line search lost in bfloat16's rounding; None: no limit) and L-BFGS does
    not give up. Then 'mixed' (float32's loss, a bfloat16 backward pass), then
    float32 for at least the last `finish_share` of the iterations (and of a
    budget). bench/RESULTS.md measures the choice."""
    finish_share: float = 0.1
    noise_window: int = 10
    noise_share: float = 0.5
    bulk_patience: Optional[int] = 4

    def finish(self, count):
        """How many of `count` iterations or evaluations a float32 finish keeps at least."""
        return max(1, math.ceil(count * self.finish_share))


# The policy a painting switches by unless it is given one.
SWITCH_POLICY = SwitchPolicy()


class NonFiniteLoss(ArithmeticError):
    """The loss became NaN or infinite; the last finite iterate is the result."""


def check_finite(total):
    """Raise NonFiniteLoss if the total loss is NaN or infinite."""
    if not np.isfinite(total):
        raise NonFiniteLoss('the total loss became %s' % total)


class StopOptimization(Exception):
    """Raised by an objective to end the run; the iterates so far stand."""


def _stoppable(function, stop):
    """`function`, raising StopOptimization instead once the Event `stop` is set."""
    def call(x):
        if stop.is_set():
            raise StopOptimization('stopped by the caller')
        return function(x)
    return call


def lbfgs_iterates(loss, gradient, x0, maxiter, bounds=None, history=LBFGS_HISTORY,
                   tolerance=None):
    """Minimise loss (x -> f), whose gradient is gradient (x -> float64 array), from x0,
    yielding each new iterate x.

    At most `maxiter` iterations; either function may raise StopOptimization to end sooner.
    `bounds` is a pair of arrays (lower, upper) like x0, or None; `tolerance` is scipy's ftol
    (None: scipy's own). Returns scipy's message when the optimizer ends by itself. Closing
    the generator stops the worker (a stop does not wait for its evaluation).

    The two are handed to scipy apart, not as one function with jac=True:
    scipy memoizes such a function with a float64 copy of x of its own (0.27
    GiB at 4000x3000). LbfgsObjective remembers its last evaluation, so loss
    and gradient at one x cost one.
    """
    outbox, inbox = queue.Queue(), queue.Queue()
    stop = threading.Event()

    def callback(intermediate_result):
        outbox.put(('iterate', np.array(intermediate_result.x)))
        if inbox.get() == 'stop':
            raise StopIteration

    def run():
        try:
            result = scipy.optimize.minimize(
                _stoppable(loss, stop), x0, jac=_stoppable(gradient, stop), method='L-BFGS-B',
                callback=callback, bounds=None if bounds is None else scipy.optimize.Bounds(*bounds),
                # gtol 0: an absolute gradient threshold means nothing across objectives.
                options={'maxiter': maxiter, 'maxfun': np.iinfo(np.int32).max, 'maxcor': history,
                         'gtol': 0.0, **({} if tolerance is None else {'ftol': tolerance})})
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
            waiting = True  # a stop raised in the wait does not wait for the evaluation
            kind, payload = stops.get(outbox)
            waiting = False
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
        if not waiting:
            worker.join()


def bounds_of(shape):
    """Lower and upper bounds (network space) that keep pixels within 0..255."""
    lower = np.broadcast_to(-MEAN_VALUES, shape).astype(np.float64).ravel()
    return lower, lower + 255.0


class LbfgsObjective:
    """scipy's objective over a Painting: float64 x in, the total loss or its float64
    gradient out.

    The last evaluation is remembered: scipy asks for the loss and then the
    gradient at one x, and again for the start, and iterates are reported
    with the losses (and precision) of their own evaluation. With
    `max_evaluations`, no more evaluations are spent; with `patience`, no
    iteration after the first spends more than that many while the loss is
    not float32's (a line search lost in rounding noise).
    """

    def __init__(self, painting: 'Evaluator', max_evaluations=None, patience=None):
        self.painting = painting
        self.max_evaluations = max_evaluations
        self.patience = patience
        self.spent = 0
        # Evaluations spent when the last iterate was reported, and its iteration.
        self.reported = (0, 0)
        # The float32 image, (content, style, total), float32 gradient, precision and
        # groups of the last evaluation: x that round to one image evaluate alike, and at
        # print sizes float32 halves what is kept beside L-BFGS-B's own float64 state.
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
        if (self.patience is not None and iteration >= 1 and self.spent - spent >= self.patience
                and not float32_loss(self.painting.precision)):
            raise StopOptimization('iteration %d took more than %d evaluations'
                                   % (iteration + 1, self.patience))
        losses = self.painting.evaluate(image)
        self.spent += 1
        check_finite(losses[2])
        self.last = (image, losses[:3], losses[3], self.painting.precision, losses.groups)

    def image(self, x):
        """x as the painting's float32 image."""
        return x.reshape(self.painting.shape).astype(np.float32)

    def iterate(self, iteration, x):
        """An Iterate for x, with the losses of its evaluation."""
        self.evaluate(x)
        self.reported = (self.spent, iteration)
        return Iterate(iteration, self.spent, *self.last[1], self.last[0], *self.last[3:])


def lbfgs(painting: 'Evaluator', initial_image, iterations, max_evaluations=None,
          blas_threads=1, patience=None, *, pixel_bounds=False, lbfgs_history=LBFGS_HISTORY,
          lbfgs_tolerance=None):
    """Yield Iterates 0..iterations of scipy's L-BFGS-B on `painting` from initial_image.

    With `max_evaluations`, no more loss+gradient evaluations are spent; with `patience`,
    L-BFGS stops when an iteration after the first needs more. The result is left in the
    painting's variable. The keyword-only options are the settings of their names
    (art.app.settings): pixels kept within 0..255, scipy's maxcor and ftol (None: scipy's).
    NumPy's and SciPy's BLAS run on `blas_threads` threads (None: as they are) meanwhile:
    idle BLAS workers spinning after L-BFGS-B's memory-bound vector operations take the
    cores from TensorFlow's threads (bench/RESULTS.md measures it).
    """
    x0 = np.asarray(initial_image, dtype=np.float64).ravel()
    limits = bounds_of(painting.shape) if pixel_bounds else None
    if limits is not None:
        x0 = np.clip(x0, *limits)
    objective = LbfgsObjective(painting, max_evaluations, patience)
    with threadpool_limits(limits=blas_threads, user_api='blas'):
        current = objective.iterate(0, x0)
        yield current
        steps = lbfgs_iterates(objective.loss, objective.gradient, x0, iterations, bounds=limits,
                               history=lbfgs_history, tolerance=lbfgs_tolerance)
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


def adam(painting: 'Evaluator', initial_image, iterations):
    """Yield Iterates 0..iterations of art.py's Adam loop on `painting` from initial_image.

    As art.py: all variables re-initialized, the start assigned, one train
    step per iteration. Each step's run also returns the losses and image it
    started from, so Iterate k is yielded during step k+1 and the last one
    costs a forward pass only. Each step runs in the painting's precision of
    the moment: a `Painting.switch` between two iterates carries the image and
    moments on to the next step.
    """
    painting.reset_adam(initial_image)
    for step in range(1, iterations + 1):
        losses = painting.adam_step()
        check_finite(losses[2])
        yield Iterate(step - 1, step, *losses, painting.precision, losses.groups)
    losses = painting.losses_and_image()
    check_finite(losses[2])
    yield Iterate(iterations, iterations, *losses, painting.precision, losses.groups)


def float32_loss(precision):
    """Whether a painting's loss in `precision` is float32's."""
    return precision in (FINISH_PRECISION, MIXED_PRECISION)


def worth_its_noise(totals, float32_total, window, share):
    """Whether `share` of what bfloat16's total loss fell per iteration, on average over
    the last `window` iterations of `totals` (its own losses), is more than it differs
    from float32's at the last image: s (T[-w-1] - T[-1]) / w > |T[-1] - float32_total|."""
    return share * (totals[-window - 1] - totals[-1]) / window > abs(totals[-1] - float32_total)


def _one_precision(painting: 'Evaluator', initial_image, iterations, max_evaluations,
                   patience=None, **options):
    """Iterates of the painting's optimizer from initial_image in its present precision."""
    if painting.optimizer == 'adam':
        return adam(painting, initial_image, iterations)
    return lbfgs(painting, initial_image, iterations, max_evaluations=max_evaluations,
                 patience=patience, **options)


class Phases:
    """When a painting moves on through `painting.phases`, as `policy` says: to the float32
    finish at the last of the iterations and of the budget; out of bfloat16 sooner when
    its evaluations are no longer worth their noise (L-BFGS only)."""

    def __init__(self, painting: 'Evaluator', iterations, max_evaluations, policy):
        self.painting, self.policy = painting, policy
        self.finish_at = iterations - policy.finish(iterations)
        self.budget_at = (None if max_evaluations is None
                          else max_evaluations - policy.finish(max_evaluations))
        self.totals = []

    def later(self):
        """The phase after the painting's present one (float32 stays)."""
        phases = self.painting.phases
        return phases[min(phases.index(self.painting.precision) + 1, len(phases) - 1)]

    def after(self, iterate):
        """The precision to go on in after `iterate`."""
        present = self.painting.precision
        if present == FINISH_PRECISION or iterate.iteration >= self.finish_at or (
                self.budget_at is not None and iterate.evaluations >= self.budget_at):
            return FINISH_PRECISION
        if float32_loss(present) or self.painting.optimizer != 'lbfgs':
            return present
        self.totals.append(float(iterate.total_loss))
        window = self.policy.noise_window
        if len(self.totals) > window and (len(self.totals) - 1) % window == 0:
            exact = self.painting.losses_at(iterate.image, FINISH_PRECISION)[2]
            if not worth_its_noise(self.totals, float(exact), window, self.policy.noise_share):
                return self.later()
        return present


def in_phases(painting: 'Evaluator', initial_image, iterations, max_evaluations=None,
              policy=None, **options):
    """Iterates of a painting that starts in a faster precision and ends in float32.

    It moves through `painting.phases` as `Phases` decides by `policy`
    (SWITCH_POLICY by default), between two
    iterates: L-BFGS goes on with its history (its next line search is in the
    new precision), Adam's next step runs with its moments in the new
    session. Where L-BFGS ends before its iterations in a phase it began in
    (gives up, or patience ends it), it starts again from the last image in
    the next phase; where it ends after a switch, in the new phase; either
    way with a fresh history. Iterations and evaluations count on. A painting
    whose last iterate is not float32's (its budget spent in the finish's
    first line search) ends with that image again, with float32's losses (one
    forward pass).
    """
    policy = policy or SWITCH_POLICY
    phases = Phases(painting, iterations, max_evaluations, policy)
    done = last = None
    while True:
        began_in = painting.precision
        run = _one_precision(
            painting, initial_image if done is None else done.image,
            iterations - (done.iteration if done else 0),
            None if max_evaluations is None else max_evaluations - (done.evaluations if done else 0),
            patience=policy.bulk_patience, **options)
        try:
            for iterate in counted_after(run, done):
                yield iterate
                last = iterate
                after = phases.after(iterate)
                if after != painting.precision:
                    painting.switch(after)
        finally:
            run.close()
        spent = last.iteration >= iterations or (
            max_evaluations is not None and last.evaluations >= max_evaluations)
        progressed = done is None or last is not done
        # A float32 run that ends by itself has converged. A run that ended after a
        # switch may have ended on it (a loss above the last one, in the new precision,
        # reads as no reduction): it starts afresh in the new phase. One that gave up in
        # the phase it began in goes on in the next.
        if spent or (painting.precision == FINISH_PRECISION and (
                began_in == FINISH_PRECISION or not progressed)):
            break
        if not progressed or painting.precision == began_in:
            painting.switch(phases.later())
        done = last
    if last.precision != FINISH_PRECISION:
        losses = painting.losses_at(last.image, FINISH_PRECISION)
        yield last._replace(content_loss=losses[0], style_loss=losses[1], total_loss=losses[2],
                            groups=losses.groups, precision=FINISH_PRECISION)


def counted_after(iterates, done):
    """`iterates` of an optimizer that started where Iterate `done` ended, counted on from
    it, without their start (`done` again); as they are where `done` is None."""
    for iterate in iterates:
        if done is not None:
            iterate = iterate._replace(iteration=iterate.iteration + done.iteration,
                                       evaluations=iterate.evaluations + done.evaluations)
            if iterate.iteration == done.iteration:
                continue
        yield iterate


def optimize(painting: 'Evaluator', initial_image, iterations, max_evaluations=None,
             policy=None, **options):
    """Iterates of the optimizer the painting was built for ('lbfgs' or 'adam', with lbfgs's
    keyword-only `options`), finished in float32 as `policy` says (in_phases)."""
    if painting.precision != FINISH_PRECISION:
        return in_phases(painting, initial_image, iterations, max_evaluations, policy,
                         **options)
    return _one_precision(painting, initial_image, iterations, max_evaluations, **options)
