"""How much memory a Job needs, and so how each of its sizes is painted: untiled, or on
the largest tiles that fit; every way out when nothing fits."""
from art.app.errors import UsageError
from art.engine import costs, cpu
from art.engine.crops import crop_shape, spans
from art.network.layers import aligned_tile, halo_for



# Tile sides --tile-size's default tries, largest first: the first that fits. Larger
# tiles spend less on halos and pass 1 (bench/RESULTS.md), smaller ones less memory.
TILE_SIZES = (2048, 1536, 1024, 768, 512, 384, 256, 128)


def plan_memory(job, weights):
    """(estimated peak bytes, {size: tile or None}) of the Job: each size checked, and
    whether it is tiled decided.

    A size is painted untiled where its estimate fits in the memory available
    (or --tile-size 0 says so), else on tiles of --tile-size or of the largest
    of TILE_SIZES that fits. UsageError for a size that fits neither way.
    """
    available = costs.available_memory()
    history = job.lbfgs_history if job.optimizer == 'lbfgs' else 0
    widths, last = weights.widths(), job.last_layer
    form = cpu.engine_weight_form()
    stride, halo = halo_for(last, job.pooling)
    peak, tiles = 0, {}

    def statistic(height, width):
        return costs.statistic_bytes(height, width, [name for name, _ in job.style_layers],
                                     job.style_loss, widths, last)

    for size in job.sizes():
        largest = max([size, job.style_size(size)], key=lambda side: side[0] * side[1])
        bounds = costs.bounds_bytes(*size) if job.pixel_bounds and history else 0
        needed, tile = (costs.estimate_memory(*largest, widths, last, history, form) + bounds
                        + statistic(*largest)), None
        if job.tile_size or (job.tile_size is None and needed > available):
            tiled = []
            for candidate in ([aligned_tile(job.tile_size, stride)] if job.tile_size
                              else TILE_SIZES):
                crop = crop_shape(largest, candidate, halo, stride)
                tiled.append((costs.estimate_tiled_memory(*largest, crop, widths, last, history,
                                                        form) + bounds + statistic(*crop),
                              candidate))
            needed, tile = next((option for option in tiled if option[0] <= available),
                                tiled[-1])
        if needed > available:
            raise UsageError('%dx%d needs an estimated %.1f GiB of memory%s and %.1f GiB is '
                             'available; use %s' % (
                                 largest[1], largest[0], needed / 2**30,
                                 ' on %d-pixel tiles' % tile if tile else '',
                                 available / 2**30, ways_out(job, tile, largest, history)))
        peak, tiles[tuple(size)] = max(peak, needed), tile
    return peak, tiles


def ways_out(job, tile, size, history):
    """Every way a Job that does not fit could: a smaller size, tiles (or smaller ones),
    and Adam, which keeps no L-BFGS state."""
    ways = ['a smaller --width/--height']
    if not tile:
        ways.append('--tile-size (tiles)')
    elif job.tile_size and job.tile_size > TILE_SIZES[-1]:
        ways.append('a smaller --tile-size')
    if history:
        ways.append("--optimizer adam (L-BFGS's state alone takes %.1f GiB; a shorter "
                    '--lbfgs-history takes less)' % (costs.optimizer_bytes(*size, history) / 2**30))
    return ', '.join(ways[:-1]) + ' or ' + ways[-1] if len(ways) > 1 else ways[0]


def describe_tiles(job, tiles):
    """Each tiled size as a record keeps it: size, tile, halo, crops and the pixels the
    crops evaluate per pixel of the image (the halo's overhead)."""
    stride, halo = halo_for(job.last_layer, job.pooling)
    described = []
    for size, tile in tiles.items():
        if tile:
            rows, columns = (spans(length, tile, halo, stride) for length in size)
            covered = (sum(row.crop_end - row.crop_start for row in rows)
                       * sum(column.crop_end - column.crop_start for column in columns))
            described.append({'size': list(size), 'tile': tile, 'halo': halo,
                              'crops': len(rows) * len(columns),
                              'crop': list(crop_shape(size, tile, halo, stride)),
                              'overhead': round(covered / (size[0] * size[1]), 3)})
    return described


def tiling_line(tiled):
    """One tiled size in words."""
    return ('%dx%d on tiles: %d crop%s of %dx%d pixels, each a tile with a halo of %d pixels '
            "(tiles of %d pixels, longer at the image's borders, where no halo is needed), "
            "%.2fx the image's pixels; the losses and gradient are the whole image's" % (
                tiled['size'][1], tiled['size'][0], tiled['crops'],
                '' if tiled['crops'] == 1 else 's', tiled['crop'][1], tiled['crop'][0],
                tiled['halo'], tiled['tile'], tiled['overhead']))


def wants_system_allocator(job):
    """Whether `job` paints with the system allocator (art.engine.cpu.SYSTEM_ALLOCATOR).

    oneDNN's pool keeps the largest run's buffers for good: a tiled painting
    then held about 3.5 GiB more beside L-BFGS-B's state at 4000x3000
    (measured when crops came in up to four shapes per size; with one shape
    per size, not measured again). The system allocator hands each layer's
    buffers back, but fresh pages cost time: 1.12-1.20x per untiled 800x600
    evaluation, 1.37x on 2048-pixel tiles at 4000x3000 (bench/RESULTS.md).
    So tiles --tile-size asks for (memory first) use it; the default's tiles,
    the largest that fit (speed first), and untiled paintings keep the pool.
    TensorFlow reads the choice once per process: such a job needs a process
    of its own.
    """
    return bool(job.tile_size)
