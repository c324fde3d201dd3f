"""--precision: bfloat16 on CPUs that have it natively, a float32 finish, and the choice.

The CPU is faked where it matters, so every test runs on any CPU. TensorFlow's
bfloat16 rewrite also runs where the CPU lacks bfloat16 (Eigen emulates it,
slowly), so the bfloat16 numerics are exercised everywhere too.
"""
import numpy as np
import pytest
from tensorflow.core.protobuf import rewriter_config_pb2

import art
import art.engine.painting as painting_module
from art.engine import cpu, optimizers
from art.engine.evaluator import Losses
from art.engine.painting import Painting, session_config, session_configs
from art.engine.tiling import TiledPainting
from art.app.record import read_record
from helpers import paint, read_log

AVX2 = {'sse4_2', 'avx', 'avx2', 'fma'}
AVX512 = AVX2 | {'avx512f', 'avx512bw', 'avx512vl', 'avx512dq'}
SAPPHIRE_RAPIDS = AVX512 | {'avx512_bf16', 'amx_tile', 'amx_bf16', 'amx_int8'}
ZEN4 = AVX512 | {'avx512_bf16'}
TWO_FLOAT32 = {'bfloat16': session_config('float32'), 'float32': session_config('float32')}


@pytest.fixture(scope='module')
def tiny():
    """A small network and a content/style pair at 24x32 with a start between them."""
    weights = art.synthetic_weights(width_divisor=16)
    rng = np.random.default_rng(5)
    content, style = (rng.uniform(-100, 100, (1, 24, 32, 3)).astype(np.float32) for _ in '12')
    return weights, content, style, art.generate_noise_image(content, 0.6, seed=2)


def test_native_bfloat16_needs_amx_or_avx512_bf16():
    assert cpu.native_bfloat16(SAPPHIRE_RAPIDS) == 'AMX'
    assert cpu.native_bfloat16(ZEN4) == 'AVX512_BF16'
    assert cpu.native_bfloat16(AVX512) is None  # Skylake: oneDNN would emulate it
    assert cpu.native_bfloat16(AVX2) is None
    assert cpu.native_bfloat16(AVX2 | {'avx512_bf16'}) is None  # no AVX-512 core


def test_auto_picks_bfloat16_only_where_it_is_native_and_onednn_is_on():
    precision, why, hint = cpu.choose_precision('auto', 'Xeon', SAPPHIRE_RAPIDS, True)
    assert (precision, hint) == ('bfloat16', None) and 'AMX' in why
    assert cpu.choose_precision('auto', 'Zen 4', ZEN4, True)[:2] == (
        'bfloat16', 'auto: the CPU has AVX512_BF16 and oneDNN is on')
    assert cpu.choose_precision('auto', 'EPYC', AVX2, True)[:2] == (
        'float32', 'auto: the CPU has neither AMX nor AVX512_BF16')
    assert cpu.choose_precision('auto', 'Xeon', SAPPHIRE_RAPIDS, False)[:2] == (
        'float32', 'auto: oneDNN is off (TF_ENABLE_ONEDNN_OPTS=0)')


def test_bfloat16_where_it_would_be_emulated_is_refused_naming_the_missing_feature():
    with pytest.raises(cpu.PrecisionError, match='needs a CPU with AMX or AVX512_BF16, and this '
                                                 'AMD EPYC has neither'):
        cpu.choose_precision('bfloat16', 'AMD EPYC', AVX2, True)
    with pytest.raises(cpu.PrecisionError, match='TF_ENABLE_ONEDNN_OPTS=0'):
        cpu.choose_precision('bfloat16', 'Xeon', SAPPHIRE_RAPIDS, False)
    assert cpu.choose_precision('bfloat16', 'Xeon', SAPPHIRE_RAPIDS, True)[0] == 'bfloat16'


def test_float32_on_a_bfloat16_cpu_gets_a_hint_and_elsewhere_none():
    assert cpu.choose_precision('float32', 'Xeon', SAPPHIRE_RAPIDS, True) == (
        'float32', 'as asked', 'hint: this CPU has AMX: --precision bfloat16 (or auto) evaluates '
                               'several times faster and finishes in float32')
    assert cpu.choose_precision('float32', 'EPYC', AVX2, True)[2] is None
    assert cpu.choose_precision('float32', 'Xeon', SAPPHIRE_RAPIDS, False)[2] is None


def test_each_precision_gets_its_session_configuration():
    on = rewriter_config_pb2.RewriterConfig.ON
    rewrite = session_config('bfloat16').graph_options.rewrite_options
    assert rewrite.auto_mixed_precision_onednn_bfloat16 == on
    plain = session_config('float32').graph_options.rewrite_options
    assert plain.auto_mixed_precision_onednn_bfloat16 != on
    assert list(session_configs('float32')) == ['float32']
    configs = session_configs('bfloat16')
    assert list(configs) == ['bfloat16', 'float32']  # the bulk first, the finish after
    assert configs['float32'].graph_options.rewrite_options.auto_mixed_precision_onednn_bfloat16 \
        != on
    for config in configs.values():
        assert config.intra_op_parallelism_threads == session_config().intra_op_parallelism_threads


@pytest.mark.parametrize('kind', [Painting, lambda *images, **options: TiledPainting(
    *images, 16, **options)])
def test_a_painting_needs_a_float32_session_for_its_captures(tiny, kind):
    weights, content, style, _ = tiny
    with pytest.raises(ValueError, match='float32'):
        kind(weights, content, style, configs={'bfloat16': session_config('bfloat16')})


def _run(painting, start, iterations, **options):
    return list(optimizers.optimize(painting, start, iterations, **options))


@pytest.fixture
def no_early_switch(monkeypatch):
    """The bulk runs its full share: neither the noise check nor a long line search
    (whose evaluation counts follow each CPU's rounding) ends it sooner."""
    monkeypatch.setattr(optimizers, 'SWITCH_POLICY', optimizers.SwitchPolicy(
        bulk_patience=None, noise_window=10**6))


def test_lbfgs_goes_on_through_the_float32_switch_with_its_history(tiny, no_early_switch):
    """Two float32 sessions stand in for bfloat16's: a painting switched to its float32
    session for the last iteration is one unbroken L-BFGS run, iterate for iterate."""
    weights, content, style, start = tiny
    with Painting(weights, content, style, configs=TWO_FLOAT32) as painting:
        assert painting.precision == 'bfloat16'
        assert painting.phases == ('bfloat16', 'mixed', 'float32')
        switched = _run(painting, start, 10)
        assert painting.precision == 'float32'
    assert [it.precision for it in switched] == ['bfloat16'] * 10 + ['float32']
    with Painting(weights, content, style) as painting:
        plain = _run(painting, start, 10)
    for got, want in zip(switched, plain, strict=True):
        assert (got.iteration, got.evaluations) == (want.iteration, want.evaluations)
        np.testing.assert_array_equal(got.image, want.image)
        assert got.total_loss == want.total_loss


@pytest.fixture
def noisy_at_two(monkeypatch):
    """bfloat16's evaluations stop being worth their noise at the first check, iteration 2."""
    monkeypatch.setattr(optimizers, 'SWITCH_POLICY', optimizers.SwitchPolicy(
        bulk_patience=None, noise_window=2))
    monkeypatch.setattr(optimizers, 'worth_its_noise', lambda *arguments: False)


def test_bfloat16_noise_moves_the_bulk_to_mixed_with_float32_losses(tiny, noisy_at_two):
    """When bfloat16's loss differs from float32's by more than a share of an iteration's
    gain, the painting goes on in 'mixed': float32's losses, a bfloat16 backward pass."""
    weights, content, style, start = tiny
    with Painting(weights, content, style, configs=TWO_FLOAT32) as painting:
        iterates = _run(painting, start, 20)
        mixed = [it for it in iterates if it.precision == 'mixed']
        exact = painting.losses_at(mixed[-1].image, 'float32')
    precisions = [it.precision for it in iterates]
    assert precisions[:4] == ['bfloat16'] * 3 + ['mixed']
    assert precisions == sorted(precisions, key=('bfloat16', 'mixed', 'float32').index)
    assert precisions[-1] == 'float32' and len(mixed) >= 2
    assert [it.iteration for it in iterates] == list(range(len(iterates)))
    np.testing.assert_allclose((mixed[-1].content_loss, mixed[-1].style_loss,
                                mixed[-1].total_loss), exact, rtol=1e-6)


def test_worth_its_noise_compares_a_share_of_the_gain_with_the_difference():
    # 10 per iteration over the window; half of it against the difference from float32's.
    assert optimizers.worth_its_noise([120, 110, 100], 104, window=2, share=0.5)
    assert not optimizers.worth_its_noise([120, 110, 100], 106, window=2, share=0.5)
    assert not optimizers.worth_its_noise([120, 110, 100], 94, window=2, share=0.5)


def test_a_bulk_lbfgs_gives_up_in_starts_afresh_in_the_next_phase(tiny, monkeypatch):
    """Patience ends the bfloat16 run; L-BFGS starts again from its last image in 'mixed'
    (fresh history), counting on, and the painting still ends in float32."""
    weights, content, style, start = tiny
    monkeypatch.setattr(optimizers, 'SWITCH_POLICY', optimizers.SwitchPolicy(
        bulk_patience=0, noise_window=10**6))  # no evaluation after iteration 1
    with Painting(weights, content, style, configs=TWO_FLOAT32) as painting:
        iterates = _run(painting, start, 40)
    bulk = [it for it in iterates if it.precision == 'bfloat16']
    after = iterates[len(bulk)]
    assert len(bulk) == 2 and after.precision == 'mixed'
    with Painting(weights, content, style, configs=TWO_FLOAT32) as painting:
        painting.switch('mixed')
        fresh = list(optimizers.lbfgs(painting, bulk[-1].image, 1))
    np.testing.assert_array_equal(after.image, fresh[1].image)
    assert after.evaluations == bulk[-1].evaluations + fresh[1].evaluations
    assert [it.iteration for it in iterates] == list(range(len(iterates)))
    assert iterates[-1].precision == 'float32'


class LowInBfloat16(Painting):
    """A painting whose 'bfloat16' losses (and gradient) read half of float32's, as a
    bfloat16 loss below float32's does at the switch."""

    def evaluate(self, image):
        losses = super().evaluate(image)
        scale = 0.5 if self.precision == 'bfloat16' else 1.0
        return Losses(tuple(np.float32(scale) * value for value in losses),
                      {group: scale * value for group, value in losses.groups.items()})


def test_a_run_ended_by_a_switch_starts_afresh_in_the_new_phase(tiny, noisy_at_two):
    """scipy reads a loss above the last one as no reduction and ends; the painting goes
    on in the phase it switched to, not the next."""
    weights, content, style, start = tiny
    with LowInBfloat16(weights, content, style, configs=TWO_FLOAT32) as painting:
        iterates = _run(painting, start, 30)
    precisions = [it.precision for it in iterates]
    assert precisions[:3] == ['bfloat16'] * 3
    assert precisions[3:28] == ['mixed'] * 25 and precisions[28:] == ['float32'] * 3
    assert [it.iteration for it in iterates] == list(range(31))


def test_an_evaluation_budget_is_shared_with_the_finish(tiny):
    weights, content, style, start = tiny
    with Painting(weights, content, style, configs=TWO_FLOAT32) as painting:
        iterates = _run(painting, start, 1000, max_evaluations=20)
    assert iterates[-1].evaluations <= 20 and iterates[-1].precision == 'float32'
    bulk = [it for it in iterates if it.precision != 'float32']
    # The finish begins after the first iterate at 90% of the budget or more.
    assert all(it.evaluations < 18 for it in bulk[:-1]) and bulk[-1].evaluations < 20


def test_adam_carries_its_moments_into_the_finish(tiny):
    """With two float32 sessions, an Adam run switched part way equals one unswitched run:
    the image and Adam's moments and step counts all move to the finish's session."""
    weights, content, style, start = tiny
    with Painting(weights, content, style, optimizer='adam', configs=TWO_FLOAT32) as painting:
        switched = _run(painting, start, 10)
    with Painting(weights, content, style, optimizer='adam') as painting:
        plain = _run(painting, start, 10)
    assert [it.precision for it in switched] == ['bfloat16'] * 10 + ['float32']
    assert switched[-1].evaluations == plain[-1].evaluations == 10
    for got, want in zip(switched, plain, strict=True):
        assert got.iteration == want.iteration
        np.testing.assert_allclose(got.image, want.image, rtol=0, atol=1e-4)
        np.testing.assert_allclose(got.total_loss, want.total_loss, rtol=1e-6)


@pytest.mark.skipif(not cpu.onednn_enabled(), reason='the bfloat16 rewrite is oneDNN\'s: '
                    'TF_ENABLE_ONEDNN_OPTS=0 turns it off (and --precision bfloat16 is refused)')
def test_a_bfloat16_run_finishes_in_float32_below_where_it_switched():
    """The real rewrite (native where the CPU has bfloat16, emulated elsewhere): the bulk
    runs in bfloat16, the phases follow in order, one iteration after another, within
    the budget, and the float32 finish lowers the loss from where it began.
    Where a chaotic L-BFGS path ends, against a float32 run's, follows each CPU's rounding
    and is measured in bench/RESULTS.md, not asserted here."""
    weights = art.synthetic_weights(width_divisor=8)
    rng = np.random.default_rng(5)
    content, style = (rng.uniform(-100, 100, (1, 48, 64, 3)).astype(np.float32) for _ in '12')
    start = art.generate_noise_image(content, 0.6, seed=2)
    with Painting(weights, content, style, configs=session_configs('bfloat16')) as painting:
        phased = _run(painting, start, 1000, max_evaluations=200)
        phases = painting.phases
    with Painting(weights, content, style) as painting:
        plain = _run(painting, start, 1)
    precisions = [it.precision for it in phased]
    assert precisions[0] == 'bfloat16' and precisions[-1] == 'float32'
    assert precisions == sorted(precisions, key=phases.index)
    assert phased[0].total_loss != plain[0].total_loss  # the rewrite changed the arithmetic
    assert [it.iteration for it in phased] == list(range(len(phased)))
    assert 180 <= phased[-1].evaluations <= 200
    finish = [it for it in phased if it.precision == 'float32']
    assert phased[-1].total_loss < finish[0].total_loss
    assert phased[-1].total_loss < 0.5 * phased[0].total_loss


def test_patience_stops_an_iteration_lost_in_its_line_search(tiny):
    """While the loss is not float32's (here a float32 session standing in for bfloat16)."""
    weights, content, style, start = tiny
    with Painting(weights, content, style, configs=TWO_FLOAT32) as painting:
        iterates = list(optimizers.lbfgs(painting, start, 50, patience=1))
    # The first iteration may search; every later one had at most one evaluation.
    assert 1 <= len(iterates) - 1 < 50
    steps = np.diff([it.evaluations for it in iterates[1:]])
    assert all(steps <= 1)


@pytest.fixture
def fake_cpu(monkeypatch):
    def fake(flags, model='Fake CPU'):
        monkeypatch.setattr(cpu, 'cpuinfo', lambda path='/proc/cpuinfo': (model, set(flags)))
    return fake


def _small_run(tmp_path, synthetic_files, *flags):
    return ('--weights', synthetic_files['old'], '--width', '32', '--height', '24',
            '--iterations', '6', '--seed', '1', '--checkpoint-every', '0',
            '--output', tmp_path / 'p.png', '--loss-log', tmp_path / 'log.csv') + flags


def test_auto_on_a_bfloat16_cpu_paints_in_bfloat16_and_finishes_in_float32(
        tmp_path, capsys, synthetic_files, fake_cpu, no_early_switch, monkeypatch):
    """The choice, the lines, the log and the record; two float32 sessions stand in for
    the bfloat16 pair, so the switch comes where the share puts it on every CPU."""
    fake_cpu(SAPPHIRE_RAPIDS, 'Intel Xeon Platinum 8481C')
    monkeypatch.setattr(cpu, 'onednn_enabled', lambda: True)
    monkeypatch.setattr(painting_module, 'session_configs', lambda precision: dict(
        TWO_FLOAT32) if precision == 'bfloat16' else session_configs(precision))
    code, out, _ = paint(capsys, *_small_run(tmp_path, synthetic_files, '--precision', 'auto'))
    assert code == 0, out
    assert ('; bfloat16 (auto: the CPU has AMX and oneDNN is on), finishing in float32'
            in out)
    assert 'iteration 6 on: float32 (until iteration 5: bfloat16' in out
    logged = [line.rsplit(',', 1)[1] for line in (tmp_path / 'log.csv').read_text().splitlines()[2:]]
    assert logged == ['bfloat16'] * 6 + ['float32']
    record = read_record(str(tmp_path / 'p.json'))
    assert record['environment']['precision'] == {
        'bulk': 'bfloat16', 'finish': 'float32', 'why': 'auto: the CPU has AMX and oneDNN is on'}
    assert record['job']['precision'] == 'auto'
    assert [row[6] for row in record['trajectory']['rows']] == logged
    assert read_log(tmp_path / 'log.csv')[1].shape == (7, 6)


def test_float32_on_a_bfloat16_cpu_prints_a_hint(tmp_path, capsys, synthetic_files, fake_cpu,
                                                  monkeypatch):
    fake_cpu(ZEN4, 'AMD EPYC 9654')
    monkeypatch.setattr(cpu, 'onednn_enabled', lambda: True)
    code, out, _ = paint(capsys, *_small_run(tmp_path, synthetic_files))
    assert code == 0, out
    assert 'float32 (as asked)' in out
    assert ('hint: this CPU has AVX512_BF16: --precision bfloat16 (or auto) evaluates several '
            'times faster and finishes in float32') in out.splitlines()
    assert {line.rsplit(',', 1)[1] for line in
            (tmp_path / 'log.csv').read_text().splitlines()[2:]} == {'float32'}


def test_bfloat16_on_a_cpu_without_it_is_a_one_line_error(tmp_path, capsys, synthetic_files,
                                                            fake_cpu):
    fake_cpu(AVX2, 'AMD EPYC')
    code, out, err = paint(capsys, *_small_run(tmp_path, synthetic_files,
                                               '--precision', 'bfloat16'))
    assert code == 2
    assert err.strip().splitlines() == [
        'run_art.py: error: --precision bfloat16 needs a CPU with AMX or AVX512_BF16, and this '
        'AMD EPYC has neither (emulated bfloat16 is slower than float32); use --precision '
        'float32 or auto']
    assert not (tmp_path / 'p.png').exists() and not (tmp_path / 'p.json').exists()


ONEDNN = pytest.mark.skipif(not cpu.onednn_enabled(), reason="the bfloat16 rewrite is "
                            "oneDNN's: TF_ENABLE_ONEDNN_OPTS=0 turns it off")


def _rewritten_ops(painting, image):
    """{(op, dtype)} of the graph the painting's present session runs for an evaluation."""
    options = art.engine.tf1.tf1.RunOptions(output_partition_graphs=True)
    metadata = art.engine.tf1.tf1.RunMetadata()
    painting.sess.run(painting._fetches[painting.precision],  # pylint: disable=protected-access
                      {painting.model['image']: image}, options=options, run_metadata=metadata)
    return {(node.op, art.engine.tf1.tf.dtypes.as_dtype(node.attr['T'].type).name)
            for graph in metadata.partition_graphs for node in graph.node if 'T' in node.attr}


NATIVE_BFLOAT16 = pytest.mark.skipif(
    cpu.native_bfloat16(cpu.cpuinfo()[1]) is None or not cpu.onednn_enabled(),
    reason='oneDNN rewrites convolutions to bfloat16 only on a CPU with AVX512_BF16 or AMX '
           '(cpuinfo flag avx512_bf16 or amx_bf16), oneDNN on')
# The ops that take Gram products and loss differences, under every name the rewrite gives them.
PRODUCTS_AND_DIFFERENCES = {'MatMul', '_MklMatMul', 'BatchMatMulV2', '_MklBatchMatMulV2', 'Sub',
                            'SquaredDifference'}


@ONEDNN
def test_the_rewrite_keeps_gram_products_and_loss_differences_in_float32(tiny):
    """On every CPU: whatever the rewrite turns to bfloat16 (the convolutions where the CPU
    has it, pooling and sums elsewhere), the Gram products and differences stay float32."""
    weights, content, style, start = tiny
    with Painting(weights, content, style, configs=session_configs('bfloat16')) as painting:
        ops = _rewritten_ops(painting, start)
    in_bfloat16 = {op for op, dtype in ops if dtype == 'bfloat16'}
    assert in_bfloat16  # the rewrite ran
    assert in_bfloat16 & PRODUCTS_AND_DIFFERENCES == set()
    in_float32 = {op for op, dtype in ops if dtype == 'float32'}
    assert in_float32 & {'MatMul', '_MklMatMul'} and 'Sub' in in_float32


@NATIVE_BFLOAT16
def test_the_rewrite_runs_the_convolutions_in_bfloat16_where_the_cpu_has_it(tiny):
    weights, content, style, start = tiny
    with Painting(weights, content, style, configs=session_configs('bfloat16')) as painting:
        ops = _rewritten_ops(painting, start)
    assert ('_MklNativeFusedConv2D', 'bfloat16') in ops


@ONEDNN
def test_a_bfloat16_session_compares_with_targets_it_captured_itself(tiny):
    """At the content image, with it as the style too, bfloat16's losses are zero: its
    targets are its own rounding of the features, not float32's (which differ)."""
    weights, content, _, _ = tiny
    with Painting(weights, content, content, configs=session_configs('bfloat16')) as painting:
        assert list(painting.losses_at(content, 'bfloat16')) == [0, 0, 0]
        assert list(painting.losses_at(content, 'float32')) == [0, 0, 0]
        rounded = painting.sessions['bfloat16'].run(painting.model['conv4_2'],
                                                    {painting.model['image']: content})
        assert np.any(rounded != painting.content_targets['conv4_2'])
    with TiledPainting(weights, content, content, 16,
                       configs=session_configs('bfloat16')) as painting:
        assert list(painting.losses_at(content, 'bfloat16')) == [0, 0, 0]
        own = painting.targets_of('content', 'bfloat16')
        assert np.any(own['conv4_2'] != painting.content_targets['conv4_2'])


def test_tiled_losses_at_are_the_evaluation_s(tiny):
    weights, content, style, start = tiny
    with TiledPainting(weights, content, style, 16, tv_weight=0.5) as painting:
        evaluated = painting.evaluate(start)[:3]
        np.testing.assert_allclose(painting.losses_at(start), evaluated, rtol=1e-5)
    with Painting(weights, content, style, tv_weight=0.5) as painting:
        np.testing.assert_allclose(painting.losses_at(start), evaluated, rtol=1e-5)


def test_a_tiled_bulk_moves_on_noise_straight_to_float32(tiny, monkeypatch):
    """Tiles have no 'mixed' phase: the noise check (a tiled forward pass in float32)
    moves the bulk to float32."""
    weights, content, style, start = tiny
    monkeypatch.setattr(optimizers, 'SWITCH_POLICY', optimizers.SwitchPolicy(
        bulk_patience=None, noise_window=2))
    checked = []
    monkeypatch.setattr(optimizers, 'worth_its_noise',
                        lambda totals, exact, *rule: checked.append(exact) and False)
    with TiledPainting(weights, content, style, 16, configs=TWO_FLOAT32) as painting:
        iterates = _run(painting, start, 10)
        expected = painting.losses_at(iterates[2].image, 'float32')[2]
    assert [it.precision for it in iterates] == ['bfloat16'] * 3 + ['float32'] * 8
    assert checked == [pytest.approx(float(expected), rel=1e-6)]
