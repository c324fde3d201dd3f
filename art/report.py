"""`run_art.py --explain`: what the graph of a painting holds, in words.

The answers to the questions readers of art.py ask: where the image lives
(one tf.Variable), what the losses compare it with (numpy arrays captured
with sess.run and frozen into the graph as constants), what is built once and
never again (the op count), and what one evaluation costs.
"""
from art import costs
from art.losses import feature_sizes


def _size(nbytes):
    """Bytes in the largest unit that keeps the number under 1024 (up to GiB)."""
    for unit in ('B', 'KiB', 'MiB'):
        if nbytes < 1024:
            return ('%d %s' if unit == 'B' else '%.1f %s') % (nbytes, unit)
        nbytes /= 1024.0
    return '%.1f GiB' % nbytes


def explain(painting, start, job, weights_note, widths):
    """The report's lines for a built Painting of `job`, evaluated once at `start`."""
    model = painting.model
    variables = painting.graph.get_collection('variables')
    height, width = painting.shape[1:3]
    lines = ['Graph of a %dx%d painting (%s, %s pooling); weights: %s' % (
        width, height, job.optimizer, job.pooling, weights_note), '']
    lines.append('Variables: %d. The image being painted is the only one:' % len(variables))
    for variable in variables:
        lines.append('  %s  shape %s  %s' % (variable.name, tuple(variable.shape),
                                             variable.dtype.base_dtype.name))
    lines.append('Images enter it through the placeholder %s and the one assign op %s; the '
                 'network reads the variable after that assignment.' % (
                     model['image'].name, model['assign_input'].name))
    lines.append('Weights: %d kernels and biases (%s), each session filling its own '
                 'untrainable copy once (outside the collections, so not listed).' % (
                     len(model['weights_feed']),
                     _size(costs.weight_bytes(widths, painting.last_layer))))
    lines += ['', 'Targets captured with sess.run, now numpy constants in the graph:']
    for layer, weight in job.content_layers:
        target = painting.content_targets[layer]
        filters, positions = feature_sizes(target.shape)
        lines.append('  content  %-8s p  %-20s %10s  weight %g  x 1/(4NM) = 1/(4*%d*%d)' % (
            layer, tuple(target.shape), _size(target.nbytes), weight, filters, positions))
    for layer, weight in job.style_layers:
        target = painting.style_targets[layer]
        filters, positions = feature_sizes(model[layer].shape)
        lines.append('  style    %-8s A  %-20s %10s  weight %g  x 1/(4N^2M^2) = 1/(4*%d^2*%d^2)' % (
            layer, tuple(target.shape), _size(target.nbytes), weight, filters, positions))
    lines += ['', 'Total loss (eq. 7): %g * content + %g * style' % (job.content_weight,
                                                                   job.style_weight)]
    ops = len(painting.graph.get_operations())
    lines.append('Ops: %d, all built before optimizing; graph finalized: %s.' % (
        ops, painting.graph.finalized))
    content, style, total, _ = painting.evaluate(start)
    lines.append('One evaluation at the start (noise ratio %g): content %.4g, style %.4g, total '
                 '%.4g; ops afterwards: %d.' % (job.noise_ratio, content, style, total,
                                                len(painting.graph.get_operations())))
    flops = costs.evaluation_flops(height, width, [layer for layer, _ in job.style_layers],
                                   widths, painting.last_layer)
    memory = costs.estimate_memory(height, width, widths, painting.last_layer,
                                   job.lbfgs_history if job.optimizer == 'lbfgs' else 0)
    lines.append('One evaluation costs %.1f GFLOP (forward %.1f, backward %.1f, Gram %.1f); '
                 'estimated peak memory %s.' % (
                     flops['total'] / 1e9, flops['forward'] / 1e9, flops['backward'] / 1e9,
                     flops['gram'] / 1e9, _size(memory)))
    return lines
