"""Where a tiled painting's crops lie: the geometry only, no TensorFlow, so that the
memory check and the record can use it before any graph is built (art.engine.tiling
evaluates on these crops)."""
import collections

# One crop along an axis: the pixels [crop_start, crop_end) it evaluates, and the
# interior [start, end) whose features it reports.
Span = collections.namedtuple('Span', 'crop_start crop_end start end')


def spans(length, tile, halo, stride):
    """[Span] along an axis of `length` pixels.

    The interiors partition the axis on multiples of `stride` (as `halo` is).
    Every crop starts on a multiple of `stride` and holds its interior and
    at least `halo` pixels on either side within the axis, so a crop at a
    border, with no halo beyond it, has the longer interior. All crops are
    one length, at most tile + 2 halo pixels (plus less than a stride, which
    puts the last start on a multiple of it), and as few as that allows: one
    crop shape along each axis, so one graph per image size. An axis that
    one crop covers whole is one span.
    """
    if length <= tile + 2 * halo:
        return [Span(0, length, 0, length)]
    count = 2
    while crop_length(length, count, halo, stride) > tile + 2 * halo + length % stride:
        count += 1
    crop = crop_length(length, count, halo, stride)
    units = (length - crop) // stride
    starts = [stride * (index * units // (count - 1)) for index in range(count)]
    bounds = [0] + [start + halo for start in starts[1:]] + [length]
    return [Span(start, start + crop, bounds[index], bounds[index + 1])
            for index, start in enumerate(starts)]


def crop_length(length, count, halo, stride):
    """The shortest length of `count` crops that cover an axis of `length` pixels as spans
    places them: the last ends at the border and starts on a multiple of `stride`, and
    neighbours' starts are at most a crop less two halos apart."""
    crop = -(-(length + 2 * halo * (count - 1)) // count)
    crop += (length - crop) % stride
    while length - crop > (count - 1) * ((crop - 2 * halo) // stride * stride):
        crop += stride
    return crop


def crop_shape(size, tile, halo, stride):
    """(height, width) of every crop of an image of `size` (height, width) on tiles of `tile`
    pixels: one shape per image size."""
    return tuple(spans(length, tile, halo, stride)[0].crop_end for length in size)
