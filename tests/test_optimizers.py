"""L-BFGS and Adam: graph hygiene, one run per evaluation, bounds, budgets."""
import threading

import numpy as np
import pytest
import tensorflow as tf

import art
from art.network.layers import CONV_LAYERS
from art.engine.evaluator import Losses
from art.constants import FLAT_WINDOW
from art.engine.optimizers import Iterate, bounds_of, optimize
from art.engine.stylize import until_flat

tf1 = tf.compat.v1


@pytest.fixture(scope='module')
def weights():
    return art.synthetic_weights(width_divisor=16, seed=5)


@pytest.fixture
def run_counter(monkeypatch):
    """Counts Session.run calls, from any thread."""
    calls = []
    original = tf1.Session.run

    def counting_run(self, *args, **kwargs):
        calls.append(threading.current_thread().name)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(tf1.Session, 'run', counting_run)
    return calls


def test_graph_is_finalized_and_op_count_does_not_grow(weights, small_images):
    content, style = small_images
    for optimizer in art.OPTIMIZERS:
        with art.Painting(weights, content, style, optimizer=optimizer) as painting:
            assert painting.graph.finalized
            before = len(painting.graph.get_operations())
            for _ in optimize(painting, art.generate_noise_image(content, seed=0), 8):
                pass
            assert len(painting.graph.get_operations()) == before


def test_lbfgs_spends_exactly_one_session_run_per_evaluation(weights, small_images, run_counter):
    content, style = small_images
    with art.Painting(weights, content, style) as painting:
        del run_counter[:]
        iterates = list(art.lbfgs(painting, art.generate_noise_image(content, seed=0), 10))
        # Plus one run at the end that leaves the result in the variable.
        assert len(run_counter) == painting.evaluations + 1
    assert iterates[-1].evaluations == painting.evaluations
    assert iterates[-1].iteration == 10


def test_evaluate_assigns_and_evaluates_in_one_run(weights, small_images, run_counter):
    content, style = small_images
    start = art.generate_noise_image(content, seed=0)
    with art.Painting(weights, content, style) as painting:
        del run_counter[:]
        content_loss, style_loss, total, gradient = painting.evaluate(start)
        assert len(run_counter) == 1
        # The variable now holds the image: a forward pass with no feed agrees.
        np.testing.assert_allclose(painting.losses_at(), (content_loss, style_loss, total), rtol=1e-6)
        np.testing.assert_array_equal(painting.sess.run(painting.model['input']), start)
    assert total == pytest.approx(art.BETA * content_loss + art.ALPHA * style_loss, rel=1e-5)
    assert gradient.shape == start.shape


def float64_total_loss_and_gradient(weights, content, style, start, pooling):
    """The paper's equations as art.py weighs them, written independently:
    TF2 eager, float64 throughout, targets computed directly."""
    pool = {'avg': tf.nn.avg_pool2d, 'max': tf.nn.max_pool2d}[pooling]

    def features(image):
        out, current = {}, tf.convert_to_tensor(image)
        for name in CONV_LAYERS:
            if name.endswith('_1') and name != 'conv1_1':
                current = pool(current, 2, 2, 'SAME')
            layer = weights.layers[name]
            current = tf.nn.relu(tf.nn.conv2d(current, layer.kernel.astype(np.float64), 1, 'SAME')
                                 + layer.bias.astype(np.float64))
            out[name] = current
        return out

    def gram(f):
        flat = tf.reshape(f, (-1, f.shape[3]))
        return tf.transpose(flat) @ flat

    p, a = features(content.astype(np.float64))['conv4_2'], features(style.astype(np.float64))
    x = tf.Variable(start.astype(np.float64))
    with tf.GradientTape() as tape:
        f = features(x)
        n, m = p.shape[3], p.shape[1] * p.shape[2]
        content_loss = tf.reduce_sum((f['conv4_2'] - p) ** 2) / (4 * n * m)
        style_loss = 0
        for name, weight in art.STYLE_LAYERS:
            n, m = f[name].shape[3], f[name].shape[1] * f[name].shape[2]
            style_loss += weight * tf.reduce_sum((gram(f[name]) - gram(a[name])) ** 2) / (4 * n**2 * m**2)
        total = art.BETA * content_loss + art.ALPHA * style_loss
    return total.numpy(), tape.gradient(total, x).numpy()


@pytest.mark.parametrize('pooling', ['avg', 'max'])
def test_loss_and_gradient_agree_with_an_independent_float64_implementation(
        weights, small_images, pooling):
    content, style = small_images
    start = art.generate_noise_image(content, seed=0)
    with art.Painting(weights, content, style, pooling=pooling) as painting:
        _, _, total, gradient = painting.evaluate(start)
    expected_total, expected_gradient = float64_total_loss_and_gradient(
        weights, content, style, start, pooling)
    assert total == pytest.approx(expected_total, rel=1e-4)
    error = np.linalg.norm(gradient - expected_gradient) / np.linalg.norm(expected_gradient)
    assert error < 1e-3


def test_lbfgs_beats_adam_at_equal_evaluations(weights, small_images):
    content, style = small_images
    start = art.generate_noise_image(content, seed=0)
    budget = 40
    results = {}
    for optimizer in art.OPTIMIZERS:
        iterates = list(art.stylize(weights, content, style, budget, optimizer=optimizer,
                                    initial_image=start, max_evaluations=budget))
        assert iterates[-1].evaluations <= budget
        results[optimizer] = iterates[-1].total_loss
    assert results['lbfgs'] < results['adam']
    assert results['lbfgs'] < 0.5 * results['adam']


def test_lbfgs_respects_the_evaluation_budget(weights, small_images):
    content, style = small_images
    iterates = list(art.stylize(weights, content, style, 1000, seed=0, max_evaluations=7))
    assert max(it.evaluations for it in iterates) <= 7
    assert iterates[-1].iteration < 1000


def test_losses_decrease(weights, small_images):
    content, style = small_images
    for optimizer in art.OPTIMIZERS:
        iterates = list(art.stylize(weights, content, style, 15, optimizer=optimizer, seed=0))
        assert iterates[-1].total_loss < 0.5 * iterates[0].total_loss


def test_pixel_bounds_keep_every_iterate_a_valid_picture(weights, small_images):
    content, style = small_images
    start = art.generate_noise_image(content, noise_ratio=1.0, seed=0) * 20
    lower, upper = bounds_of(content.shape)
    bounded = list(art.stylize(weights, content, style, 10, initial_image=start,
                               optimizer_options={'pixel_bounds': True}))
    for iterate in bounded:
        flat = iterate.image.ravel()
        assert np.all(flat >= lower - 1e-3) and np.all(flat <= upper + 1e-3)
    unbounded = list(art.stylize(weights, content, style, 10, initial_image=start))
    assert unbounded[-1].image.min() < lower.min() or unbounded[-1].image.max() > upper.max()


def test_closing_the_generator_stops_the_optimizer_thread(weights, small_images):
    content, style = small_images
    iterates = art.stylize(weights, content, style, 1000, seed=0)
    for iterate in iterates:
        if iterate.iteration == 3:
            break
    iterates.close()
    assert not [t for t in threading.enumerate() if t.name == 'lbfgs']


def test_iterates_carry_the_losses_of_their_image(weights, small_images):
    content, style = small_images
    for optimizer in art.OPTIMIZERS:
        with art.Painting(weights, content, style, optimizer=optimizer) as painting:
            iterates = list(optimize(painting, art.generate_noise_image(content, seed=0), 5))
            for iterate in (iterates[0], iterates[3], iterates[-1]):
                recomputed = painting.losses_at(iterate.image)
                np.testing.assert_allclose(
                    recomputed, (iterate.content_loss, iterate.style_loss, iterate.total_loss),
                    rtol=1e-5)


def test_non_finite_loss_stops_with_a_clear_error(weights, small_images):
    content, style = small_images
    # Float32 overflows in the Gram matrices (NaN pixels would not do:
    # ReLU maps NaN to 0).
    start = np.full(content.shape, 1e30, dtype=np.float32)
    for optimizer in art.OPTIMIZERS:
        with pytest.raises(art.NonFiniteLoss):
            list(art.stylize(weights, content, style, 5, optimizer=optimizer, initial_image=start))


def test_unknown_layer_is_a_clear_error(weights, small_images):
    content, style = small_images
    with pytest.raises(ValueError, match="unknown layer 'conv6_1'"):
        art.Painting(weights, content, style, style_layers=(('conv6_1', 1.0),))


def test_layer_and_weight_overrides_change_the_loss(weights, small_images):
    content, style = small_images
    start = art.generate_noise_image(content, seed=0)
    with art.Painting(weights, content, style) as default:
        base = default.evaluate(start)
    with art.Painting(weights, content, style, content_layers=(('conv4_2', 2.0),),
                      style_layers=(('conv1_1', 1.0),), content_weight=1,
                      style_weight=10) as custom:
        content_loss, style_loss, total, _ = custom.evaluate(start)
    assert content_loss == pytest.approx(2 * base[0], rel=1e-6)
    assert total == pytest.approx(content_loss + 10 * style_loss, rel=1e-6)
    assert style_loss != pytest.approx(base[1])


def test_blas_runs_on_one_thread_while_lbfgs_runs_and_is_restored_after(weights, small_images):
    from threadpoolctl import threadpool_info, threadpool_limits
    content, style = small_images

    def blas_threads():
        return {pool['filepath']: pool['num_threads'] for pool in threadpool_info()
                if pool['user_api'] == 'blas'}
    # Two threads to start from, whatever the machine's cores or OPENBLAS_NUM_THREADS
    # say: from one, "one thread during L-BFGS" would hold without the limit.
    with threadpool_limits(limits=2, user_api='blas'):
        before = blas_threads()
        assert before, 'NumPy and SciPy ship a BLAS that threadpoolctl sees'
        assert set(before.values()) == {2}, before
        with art.Painting(weights, content, style) as painting:
            during = [blas_threads() for _ in art.lbfgs(painting, content, 3)]
            unlimited = [blas_threads() for _ in art.lbfgs(painting, content, 2,
                                                           blas_threads=None)]
        assert all(set(seen.values()) == {1} for seen in during)
        assert unlimited[0] == before and blas_threads() == before


def test_lbfgs_history_is_scipys_maxcor_and_changes_the_path(weights, small_images, monkeypatch):
    import scipy.optimize
    content, style = small_images
    start = art.generate_noise_image(content, seed=0)
    asked = []
    minimize = scipy.optimize.minimize

    def spy(*args, **kwargs):
        asked.append(kwargs['options']['maxcor'])
        return minimize(*args, **kwargs)
    monkeypatch.setattr(scipy.optimize, 'minimize', spy)
    losses = {}
    for history in (2, 20):
        losses[history] = [it.total_loss for it in art.stylize(
            weights, content, style, 12, initial_image=start,
            optimizer_options={'lbfgs_history': history})]
    assert asked == [2, 20]
    assert losses[2][:2] == losses[20][:2] and losses[2][-1] != losses[20][-1]


def test_lbfgs_tolerance_ends_a_painting_whose_loss_stopped_moving(weights, small_images):
    """--lbfgs-tolerance is scipy's ftol: L-BFGS ends by itself, before its iterations, where
    an iteration lowers the loss by no more than that share of it."""
    content, style = small_images
    start = art.generate_noise_image(content, seed=0)
    def totals(tolerance):
        return [it.total_loss for it in art.stylize(
            weights, content, style, 40, initial_image=start,
            optimizer_options={'lbfgs_tolerance': tolerance})]
    full = totals(None)
    reductions = [(a - b) / max(abs(a), abs(b), 1) for a, b in zip(full[1:], full[2:])]
    tolerance = float(np.median(reductions))
    first = 2 + next(index for index, value in enumerate(reductions) if value <= tolerance)
    ended = totals(tolerance)
    # It ends at the first iteration that lowered the loss by no more than the tolerance.
    assert len(full) == 41 and len(ended) <= first + 1 < 41
    assert ended == full[:len(ended)]


def test_min_progress_ends_a_painting_where_the_loss_fell_little_over_the_window(
        weights, small_images):
    """stylize's min_progress (--min-progress): the painting goes on to the first iterate
    whose total loss is less than that share of itself below the one FLAT_WINDOW before,
    and ends there; without it, all the iterations."""
    content, style = small_images
    start = art.generate_noise_image(content, seed=0)

    def totals(min_progress):
        return [it.total_loss for it in art.stylize(
            weights, content, style, 80, initial_image=start, min_progress=min_progress)]
    full = totals(None)
    fallen = [(before - now) / now for before, now in zip(full, full[FLAT_WINDOW:])]
    share = float(np.median(fallen))
    first = FLAT_WINDOW + next(index for index, value in enumerate(fallen) if value < share)
    ended = totals(share)
    assert len(full) == 81 and ended == full[:first + 1]


def test_until_flat_never_ends_a_bfloat16_bulk():
    """Only float32-evaluated iterates count: a bfloat16 bulk goes on to its float32 finish."""
    def iterates(precision):
        for step in range(10):
            yield Iterate(step, step, 0.0, 0.0, 1.0, None, precision)
    assert len(list(until_flat(iterates('bfloat16'), 0.5, window=2))) == 10
    assert len(list(until_flat(iterates('float32'), 0.5, window=2))) == 3


def test_x_that_round_to_one_image_are_evaluated_once_and_kept_in_float32():
    from art.engine.optimizers import LbfgsObjective

    class Quadratic:
        """A painting whose loss is sum(image^2)."""
        shape, precision, evaluations = (1, 2, 2, 3), 'float32', 0

        def evaluate(self, image):
            self.evaluations += 1
            return Losses((0.0, 0.0, np.float32(np.sum(image ** 2)), 2 * image), {})

    painting = Quadratic()
    objective = LbfgsObjective(painting)
    x = np.linspace(1, 2, 12)
    total, gradient = objective.loss(x), objective.gradient(x)
    # One float32 ulp at 1..2 is 1.2e-7: x moved by 1e-9 is the same image.
    assert objective.loss(x + 1e-9) == total and painting.evaluations == 1
    assert gradient.dtype == np.float64
    np.testing.assert_array_equal(gradient, 2 * x.astype(np.float32))
    assert objective.last[0].dtype == objective.last[2].dtype == np.float32
    objective.gradient(x + 1e-3)
    assert painting.evaluations == 2


class IllConditioned:
    """A painting whose loss is sum(c * image^2), c from 1 to 100; `during_evaluation`
    is called at each evaluation."""
    precision = 'float32'

    def __init__(self, shape, during_evaluation=lambda: None):
        self.shape = shape
        self.scales = np.linspace(1, 100, np.prod(shape), dtype=np.float32).reshape(shape)
        self.during_evaluation = during_evaluation

    def evaluate(self, image):
        self.during_evaluation()
        return Losses((0.0, 0.0, np.float32(np.sum(self.scales * image ** 2)),
                       2 * self.scales * image), {})

    def assign(self, image):
        pass


def test_scipy_keeps_no_copy_of_x_of_its_own_to_pair_loss_and_gradient():
    """Loss and gradient go to L-BFGS-B as two functions: scipy would memoize one function
    returning both (jac=True) with a float64 copy of x more, 0.27 GiB at 4000x3000."""
    import tracemalloc
    import scipy.optimize
    from art.engine.optimizers import LbfgsObjective, lbfgs
    shape = (1, 40, 50, 3)
    image_bytes = 8 * int(np.prod(shape))
    held = []

    def count_float64_images():
        snapshot = tracemalloc.take_snapshot()
        held.append(sum(trace.size == image_bytes for trace in snapshot.traces))

    tracemalloc.start()
    try:
        painting = IllConditioned(shape, count_float64_images)
        for _ in lbfgs(painting, np.ones(shape, np.float32), 6):
            pass
        ours, held[:] = list(held), []
        objective = LbfgsObjective(IllConditioned(shape, count_float64_images))
        scipy.optimize.minimize(
            lambda x: (objective.loss(x), objective.gradient(x)), np.ones(image_bytes // 8),
            jac=True, method='L-BFGS-B', options={'maxiter': 6})
        together = list(held)
    finally:
        tracemalloc.stop()
    assert len(ours) >= 6 and len(together) >= 6
    assert max(ours) < max(together), (ours, together)


def test_no_iterate_s_float64_x_is_held_through_the_next_evaluations(monkeypatch):
    """Each iterate x is a float64 copy of the image (0.27 GiB at 4000x3000): once its
    Iterate is made, neither the optimizer's loop nor its generator keeps it."""
    import weakref
    from art.engine.optimizers import LbfgsObjective, lbfgs
    iterates = []
    iterate = LbfgsObjective.iterate

    def remembered(self, iteration, x):
        if iteration:  # not x0, which scipy holds for the whole run
            iterates.append(weakref.ref(x))
        return iterate(self, iteration, x)
    monkeypatch.setattr(LbfgsObjective, 'iterate', remembered)

    alive = []
    shape = (1, 2, 2, 3)
    painting = IllConditioned(
        shape, lambda: alive.append(sum(ref() is not None for ref in iterates)))
    steps = list(lbfgs(painting, np.ones(shape, np.float32), 8))
    assert len(iterates) >= 3 and len(steps) == len(iterates) + 1
    assert alive and max(alive) == 0, alive
