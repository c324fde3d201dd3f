"""`run_art.py --explain`: what the graph of a painting holds, in words.

The answers to the questions readers of art.py ask: where the image lives
(one tf.Variable), what the losses compare it with (numpy arrays captured
with sess.run and frozen into the graph as constants), what is built once and
never again (the op count), and what one evaluation costs.
"""
import numpy as np

from art.engine import costs
from art.constants import FINISH_PRECISION


def _size(nbytes):
    """Bytes in the largest unit that keeps the number under 1024 (up to GiB)."""
    for unit in ('B', 'KiB', 'MiB'):
        if nbytes < 1024:
            return ('%d %s' if unit == 'B' else '%.1f %s') % (nbytes, unit)
        nbytes /= 1024.0
    return '%.1f GiB' % nbytes


def term_lines(painting):
    """A line per loss term of a built painting: its layer, target and constants."""
    lines = []
    normalizers = painting.normalizers[FINISH_PRECISION]
    for index, (term, target) in enumerate(zip(painting.objective.terms,
                                               painting.targets[FINISH_PRECISION])):
        relative = ('' if index not in normalizers else
                    ', relative: x %.4g (1 / its reference loss)' % normalizers[index])
        if target is None:
            lines.append('  %-8s %s, no target, weight %g%s' % (term.group, term.describe(),
                                                                 term.weight, relative))
            continue
        filters = target.shape[-1]
        lines.append('  %-8s %-8s %s  %-20s %10s  weight %g  %s%s%s' % (
            term.group, term.layer, term.symbol, tuple(target.shape), _size(target.nbytes),
            term.weight, term.constants(filters, painting.positions[term.layer]), relative,
            _region(term)))
    if painting.objective.normalize_gradients:
        lines.append('  each term\'s gradient at its layer scaled to unit L1 norm, then '
                     'weighted (--normalize-gradients)')
    return lines


def _region(term):
    """', style K on R% of the painting' for a term guided by a mask, else ''."""
    if term.guide is None:
        return ''
    return ', %s on %.0f%% of the painting (mask mean)%s' % (
        term.source, 100 * float(np.mean(term.guide)),
        '' if term.source_guide is None else ', of %.0f%% of its image'
        % (100 * float(np.mean(term.source_guide))))


def graph_lines(painting, widths):
    """An untiled painting's graph: its one variable, how images enter it, its weights."""
    model = painting.model
    variables = painting.graph.get_collection('variables')
    lines = ['Variables: %d. The image being painted is the only one:' % len(variables)]
    for variable in variables:
        lines.append('  %s  shape %s  %s' % (variable.name, tuple(variable.shape),
                                             variable.dtype.base_dtype.name))
    lines.append('Images enter it through the placeholder %s and the one assign op %s; the '
                 'network reads the variable after that assignment.' % (
                     model['image'].name, model['assign_input'].name))
    weight_bytes = _size(costs.weight_bytes(widths, painting.last_layer))
    if model['weights_feed']:
        lines.append('Weights: %d kernels and biases (%s), each session filling its own '
                     'untrainable copy once (outside the collections, so not listed).' % (
                         len(model['weights_feed']), weight_bytes))
    else:
        lines.append('Weights: %d kernels and biases (%s) as constants of the graph: oneDNN '
                     'runs AVX2 kernels here, which reorder kernels that are not constants at '
                     'every evaluation.' % (2 * len(model['kernels']), weight_bytes))
    return lines


def crop_lines(painting):
    """A tiled painting's crops: where the image lives and what each crop graph holds."""
    crops = painting.crops.crops()
    row, column = crops[0]
    return ['The image lives in numpy beside the optimizer; the network runs on %d crop%s of '
            '%dx%d pixels (tiles of %d pixels, a halo of %d), one graph per crop shape, each '
            'with its crop as its one variable.' % (
                len(crops), '' if len(crops) == 1 else 's', column.crop_end - column.crop_start,
                row.crop_end - row.crop_start, painting.tile, painting.halo)]


def report_lines(painting, start, job, weights_note, widths, needed):
    """The report's lines for a built painting of `job` (tiled or not), evaluated once at
    `start`; `needed` is the memory check's estimate."""
    tiled = not hasattr(painting, 'graph')
    height, width = painting.shape[1:3]
    lines = ['%s of a %dx%d painting (%s, %s pooling); weights: %s' % (
        'Crop graphs' if tiled else 'Graph', width, height, job.optimizer, job.pooling,
        weights_note), '']
    lines += crop_lines(painting) if tiled else graph_lines(painting, widths)
    lines += ['', 'Targets captured with sess.run, now numpy constants in the graph%s:'
              % (' (fed to each crop)' if tiled else '')]
    lines += term_lines(painting)
    lines += ['', 'Total loss (eq. 7): %s' % ' + '.join(
        '%g * %s' % (weight, group) for group, weight in painting.objective.weights.items())]
    graphs = ([graph.graph for graph in painting.crops.graphs.values()] if tiled
              else [painting.graph])
    ops = sum(len(graph.get_operations()) for graph in graphs)
    lines.append('Ops: %d, all built before optimizing; graph%s finalized: %s.' % (
        ops, 's' if tiled else '', all(graph.finalized for graph in graphs)))
    losses = painting.evaluate(start)
    lines.append('One evaluation at the start (noise ratio %g): %s, total %.4g; ops '
                 'afterwards: %d.' % (job.noise_ratio, ', '.join(
                     '%s %.4g' % item for item in losses.groups.items()), losses[2],
                     sum(len(graph.get_operations()) for graph in graphs)))
    flops = costs.evaluation_flops(height, width, [layer for layer, _ in job.style_layers],
                                   widths, painting.last_layer)
    lines.append('One evaluation costs %.1f GFLOP%s (forward %.1f, backward %.1f, Gram %.1f); '
                 'estimated peak memory %s.' % (
                     flops['total'] / 1e9, ' on the whole image, more on crops' if tiled else '',
                     flops['forward'] / 1e9, flops['backward'] / 1e9, flops['gram'] / 1e9,
                     _size(needed)))
    return lines
