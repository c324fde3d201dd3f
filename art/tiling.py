"""Tiled evaluation: a large painting's loss and gradient, exactly, in bounded memory.

Gatys' losses decompose over positions, so a painting too large for one graph
is evaluated crop by crop with the untiled numbers, to float rounding:

- A feature at a position depends on the input pixels of its receptive field
  only. A crop that extends a halo of at least the field's radius beyond a
  tile's interior, with offsets on multiples of the deepest pooling stride,
  computes the interior's features exactly as the whole image does; at the
  image's borders the crop stops at the border, so SAME padding matches too.
- A Gram matrix is a sum over positions: G = sum over tiles of F_int^T F_int
  (pass 1, forward only). The content loss is a sum over positions.
- With G known, the style loss's gradient at a position is 4k F_p (G - A), a
  function of that position's features only. So pass 2 back-propagates, per
  crop, the interior's content terms and 4k F_int (G - A) with (G - A) fed as
  a constant: the crops' gradients add up to the whole image's.
- Pass 1 skips the last crop: its pass-2 run is fed the other crops' part of
  (G - A) and adds its own Gram matrices in the graph, so every evaluation
  runs 2K - 1 crop passes for K crops, and an image of one crop costs what
  the untiled graph does.

Every crop of an image is one shape, so its crop graph is built once and
finalized, with its input as its one variable, as art.py's graph has.
"""

import numpy as np

from art import losses
from art.constants import ALPHA, BETA, CONTENT_LAYERS, FINISH_PRECISION, STYLE_LAYERS
from art.crops import spans
from art.network import aligned_tile, deepest_layer, halo_for, receptive_field
from art.painting import blend_weights, painting_configs, painting_phases
from art.tf1 import tf, tf1
from art.vgg import initialize, load_vgg_model

# The crop graphs' two runs, the only fetches they see: each new (feeds, fetches)
# a session runs gets an executor of its own, rewritten and allocated anew. So
# the captures run pass 1's fetches, and pass 2 fetches the Gram matrices it
# computes anyway.
FORWARD = ('grams', 'features')
BACKWARD = ('content', 'gradient', 'grams')


def feature_rows(start, end, crop_start, stride):
    """(first, count) of the feature rows of pixels [start, end) within a crop that starts at
    crop_start, at a layer of `stride`: the whole image's rows start/stride .. ceil(end/stride)."""
    return (start - crop_start) // stride, -(-end // stride) - start // stride


def summed_grams(names, per_crop):
    """Each layer's Gram matrices summed over `per_crop` ({layer: G} of each crop), in
    float64; 0.0 for a layer of no crop."""
    totals = {name: 0.0 for name in names}
    for grams in per_crop:
        for name, gram in grams.items():
            totals[name] = totals[name] + gram.astype(np.float64)
    return totals


class Crops:
    """The crop graphs of one image size: a VGG-19 per crop shape, each reporting its
    interior's features, their Gram matrices and pass 2's loss and gradient.

    `layers` are (content layers, style layers) as (name, weight) pairs;
    `positions` the whole image's M at each layer, so each crop's terms carry
    the whole image's normalisation (eq. 1 and 4). `configs` maps precisions to
    session configs, as Painting's; crops run in `precision`'s session.
    """

    def __init__(self, weights, size, tile, halo, layers, pooling, weights_of_terms, configs):
        self.size = size
        self.content_layers, self.style_layers = layers
        used = [name for name, _ in self.content_layers + self.style_layers]
        self.last_layer = deepest_layer(used, pooling)
        stride = receptive_field(self.last_layer, pooling)[0]
        self.rows, self.columns = (spans(length, tile, halo, stride) for length in size)
        self.strides = {name: receptive_field(name, pooling)[0] for name in used}
        self.positions = {name: int(np.prod(self.feature_size(name))) for name in used}
        self.weights, self.pooling, self.configs = weights, pooling, configs
        self.content_weight, self.style_weight = weights_of_terms
        self.precision = next(iter(configs))
        self.graphs = {}

    def crops(self):
        """Every crop: (row span, column span)."""
        return [(row, column) for row in self.rows for column in self.columns]

    def feature_size(self, name):
        """(rows, columns) of the whole image's features at layer `name`."""
        stride = self.strides[name]
        return -(-self.size[0] // stride), -(-self.size[1] // stride)

    def placement(self, name, row, column):
        """The slice of the whole image's features at layer `name` that a crop's interior is."""
        stride = self.strides[name]
        _, rows, _, columns = self.interior(name, row, column)
        top, left = row[2] // stride, column[2] // stride
        return (slice(None), slice(top, top + rows), slice(left, left + columns))

    def interior(self, name, row, column):
        """(first row, rows, first column, columns) of a crop's interior at layer `name`."""
        stride = self.strides[name]
        first_row, rows = feature_rows(row[2], row[3], row[0], stride)
        first_column, columns = feature_rows(column[2], column[3], column[0], stride)
        return first_row, rows, first_column, columns

    def graph(self, height, width):
        """The crop graph of this shape, built and finalized on first use."""
        if (height, width) not in self.graphs:
            self.graphs[height, width] = CropGraph(self, height, width)
        return self.graphs[height, width]

    def run(self, image, fetch, feeds=None, crops=None):
        """Yield (row span, column span, the fetched values) of each crop of `image`.

        `fetch` names the crop graph's tensors, FORWARD or BACKWARD;
        `feeds(graph, row, column)` adds to the feed; `crops` are (row span,
        column span) pairs, every crop by default.
        """
        for row, column in self.crops() if crops is None else crops:
            crop = image[:, row[0]:row[1], column[0]:column[1], :]
            graph = self.graph(row[1] - row[0], column[1] - column[0])
            tensors = tuple(getattr(graph, name) for name in fetch)
            yield row, column, graph.run(tensors, crop, self.interior, row, column,
                                         feeds(graph, row, column) if feeds else {})

    def grams(self, image, crops=None):
        """Pass 1: G of each style layer, summed over the crops' interiors (float64)."""
        return summed_grams([name for name, _ in self.style_layers],
                            (grams for _, _, (grams, _) in self.run(image, FORWARD, crops=crops)))

    def features(self, image):
        """Each content layer's features of the whole image, put together from the crops."""
        whole = {}
        for row, column, (_, features) in self.run(image, FORWARD):
            for name, values in features.items():
                if name not in whole:
                    whole[name] = np.zeros((1,) + self.feature_size(name) + values.shape[3:],
                                           np.float32)
                whole[name][self.placement(name, row, column)] = values
        return whole

    def close(self):
        for graph in self.graphs.values():
            for session in graph.sessions.values():
                session.close()


class CropGraph:
    """One crop shape's graph: interiors sliced at every layer, pass 1's features and Gram
    matrices, and pass 2's interior loss and its gradient with (G - A) and P fed."""

    def __init__(self, crops, height, width):
        self.graph = tf.Graph()
        with self.graph.as_default():
            model = load_vgg_model(crops.weights, height, width, crops.pooling,
                                   last_layer=crops.last_layer, weights='variables')
            self.image, self.model = model['image'], model
            self.slices = {}
            interiors = {}
            for name in crops.strides:
                begin = tf1.placeholder(tf.int32, (4,))
                count = tf1.placeholder(tf.int32, (4,))
                self.slices[name] = (begin, count)
                interiors[name] = tf.slice(model[name], begin, count)
                interiors[name].set_shape((1, None, None, model[name].shape[3]))
            self.features = {name: interiors[name] for name, _ in crops.content_layers}
            self.grams = {name: losses.gram_matrix(interiors[name])
                          for name, _ in crops.style_layers}
            self.targets, self.differences = {}, {}
            # 1 in the run that completes pass 1: (G - A) is then the fed part plus this
            # crop's own Gram matrices, held constant as the fed part is.
            self.own = tf1.placeholder_with_default(0.0, ())
            terms, upstream = [], {}
            for name, weight in crops.content_layers:
                filters = int(model[name].shape[3])
                self.targets[name] = tf1.placeholder(tf.float32, (1, None, None, filters))
                difference = interiors[name] - self.targets[name]
                normalisation = weight * losses.content_normalisation(filters,
                                                                      crops.positions[name])
                terms.append(normalisation * tf.reduce_sum(tf.square(difference)))
                upstream[name] = 2 * crops.content_weight * normalisation * difference
            self.content = tf.add_n(terms)
            for name, weight in crops.style_layers:
                filters = int(model[name].shape[3])
                self.differences[name] = tf1.placeholder(tf.float32, (filters, filters))
                difference = self.differences[name] \
                    + self.own * tf.stop_gradient(self.grams[name])
                flat = tf.reshape(interiors[name], (-1, filters))
                # dE/dF = 2k F ((G - A) + (G - A)^T), eq. 4's gradient (4k F (G - A)) as
                # autodiff of the untiled graph forms it; back-propagated from the interior
                # directly, without a surrogate loss's backward buffers.
                gradient = 2 * crops.style_weight * weight \
                    * losses.style_normalisation(filters, crops.positions[name]) \
                    * tf.matmul(flat, difference + tf.transpose(difference))
                upstream[name] = upstream.get(name, 0) \
                    + tf.reshape(gradient, tf.shape(interiors[name]))
            names = sorted(upstream)
            self.gradient = tf1.gradients([interiors[name] for name in names], model['input'],
                                          grad_ys=[upstream[name] for name in names])[0]
            self.sessions = {name: tf1.Session(graph=self.graph, config=config)
                             for name, config in crops.configs.items()}
            for session in self.sessions.values():
                initialize(session, model)
        self.graph.finalize()
        self.crops = crops

    def run(self, fetch, crop, interior, row, column, feeds):
        """sess.run of `fetch` on `crop`, with its interior at every layer and `feeds`."""
        feed = {self.image: crop}
        for name, (begin, count) in self.slices.items():
            first_row, rows, first_column, columns = interior(name, row, column)
            feed[begin] = (0, first_row, first_column, 0)
            feed[count] = (1, rows, columns, -1)
        feed.update(feeds)
        return self.sessions[self.crops.precision].run(fetch, feed)


def total_variation(image):
    """The total variation loss (art.losses.total_variation_loss) of a whole image and its
    gradient, in numpy: it couples neighbouring pixels across tiles. float32 as the untiled
    graph's, summed in float64."""
    image = np.asarray(image, np.float32)
    down = image[:, 1:] - image[:, :-1]
    right = image[:, :, 1:] - image[:, :, :-1]
    gradient = np.zeros_like(image)
    gradient[:, 1:] += 2 * down
    gradient[:, :-1] -= 2 * down
    gradient[:, :, 1:] += 2 * right
    gradient[:, :, :-1] -= 2 * right
    loss = np.sum(np.square(down), dtype=np.float64) + np.sum(np.square(right), dtype=np.float64)
    return float(loss), gradient


class TiledPainting:
    """A Painting evaluated crop by crop: the same losses and gradient, to float rounding,
    in the memory of one crop's graph. The optimizers see Painting's interface.

    `tile` is the interior's side in pixels, rounded up to the deepest pooling
    stride; `halo` defaults to the receptive field's radius rounded up to it.
    L-BFGS only: Adam's update ops live in an untiled graph.
    """

    def __init__(self, weights, content_image, style_image, tile,
                 content_layers=CONTENT_LAYERS, style_layers=STYLE_LAYERS,
                 content_weight=BETA, style_weight=ALPHA, pooling='avg', optimizer='lbfgs',
                 style_blend_weights=None, tv_weight=0.0, configs=None, halo=None):
        if optimizer != 'lbfgs':
            raise ValueError('a tiled painting runs L-BFGS only')
        configs = painting_configs(configs)
        layers = (tuple(content_layers), tuple(style_layers))
        used = [name for name, _ in layers[0] + layers[1]]
        stride, radius_halo = halo_for(deepest_layer(used, pooling), pooling)
        self.tile = aligned_tile(tile, stride)
        self.halo = radius_halo if halo is None else halo
        self.shape = tuple(np.shape(content_image))
        self.optimizer, self.evaluations, self.tv_weight = optimizer, 0, tv_weight
        self.layers, self.weights_of_terms = layers, (content_weight, style_weight)
        self.crops = self._crops(weights, self.shape[1:3], pooling, configs)
        self.phases = painting_phases(configs, mixed=False)
        style_images = list(style_image) if isinstance(style_image, (list, tuple)) \
            else [style_image]
        blend = blend_weights(style_blend_weights, len(style_images))
        # Each precision's targets, captured in its own arithmetic (as Painting's).
        self.targets = {}
        for precision in configs:
            self.switch(precision)
            style_targets = {name: 0.0 for name, _ in style_layers}
            for image, share in zip(style_images, blend):
                for name, gram in self._style_grams(weights, image, pooling,
                                                    configs[precision]).items():
                    style_targets[name] = style_targets[name] + share * gram
            self.targets[precision] = (self.crops.features(content_image), style_targets)
        self.content_targets, self.style_targets = self.targets[FINISH_PRECISION]
        self.switch(self.phases[0])
        self.image = None

    def _crops(self, weights, size, pooling, configs):
        return Crops(weights, size, self.tile, self.halo, self.layers, pooling,
                     self.weights_of_terms, configs)

    def _style_grams(self, weights, image, pooling, config):
        """A style image's Gram matrices, on its own crops (sessions of `config`) when its
        size is not ours, scaled to our positions as art.painting.capture_grams_at_size does."""
        if np.shape(image) == self.shape:
            return self.crops.grams(image)
        crops = self._crops(weights, np.shape(image)[1:3], pooling,
                            {FINISH_PRECISION: config})
        try:
            grams = crops.grams(image)
        finally:
            crops.close()
        return {name: gram * (self.crops.positions[name] / crops.positions[name])
                for name, gram in grams.items()}

    def switch(self, precision):
        """Run the crops in `precision`'s sessions from now on (they hold no state)."""
        self.precision = self.crops.precision = precision

    def style_loss(self, grams):
        """Eq. 5 from whole-image Gram matrices, in float64."""
        total = 0.0
        for name, weight in self.layers[1]:
            filters = grams[name].shape[0]
            difference = grams[name] - self.targets[self.precision][1][name]
            total += weight * losses.style_normalisation(
                filters, self.crops.positions[name]) * np.sum(difference ** 2)
        return total

    def evaluate(self, image):
        """Losses and gradient at `image`: pass 1 for the Gram matrices of every crop but
        the last, then pass 2 per crop, the last first (it completes G).

        Returns (content, style, total, gradient), as Painting.evaluate.
        """
        *others, last = self.crops.crops()
        rest = self.crops.grams(image, others)
        content, gradient = 0.0, np.zeros(self.shape, np.float32)

        def second_pass(crops, grams, own):
            """Pass 2 over `crops` with (G - A) from `grams`, plus each crop's own Gram
            matrices where `own` is 1; returns those, summed (float64)."""
            nonlocal content
            content_targets, style_targets = self.targets[self.precision]
            differences = {name: np.asarray(grams[name] - style_targets[name], np.float32)
                           for name, _ in self.layers[1]}

            def feeds(graph, row, column):
                feed = {graph.differences[name]: value for name, value in differences.items()}
                feed[graph.own] = own
                for name, target in content_targets.items():
                    feed[graph.targets[name]] = target[self.crops.placement(name, row, column)]
                return feed

            own_grams = []
            for row, column, (part, crop_gradient, crop_grams) in self.crops.run(
                    image, BACKWARD, feeds, crops):
                content += float(part)
                gradient[:, row[0]:row[1], column[0]:column[1]] += crop_gradient
                if own:
                    own_grams.append(crop_grams)
            return summed_grams(differences, own_grams)

        last_grams = second_pass([last], rest, 1.0)
        grams = {name: rest[name] + last_grams[name] for name in rest}
        second_pass(others, grams, 0.0)
        style = self.style_loss(grams)
        total = losses.total_loss_func(content, style, *self.weights_of_terms)
        if self.tv_weight:
            variation, variation_gradient = total_variation(image)
            total += self.tv_weight * variation
            gradient += self.tv_weight * variation_gradient
        self.evaluations += 1
        self.image = image
        return np.float32(content), np.float32(style), np.float32(total), gradient

    def losses_at(self, image, precision=None):
        """(content, style, total) at `image` in `precision` (the painting's own by default):
        pass 1 only, every crop's features and Gram matrices."""
        precision = precision or self.precision
        present, grams, content = self.precision, [], 0.0
        self.switch(precision)
        try:
            for row, column, (crop_grams, features) in self.crops.run(image, FORWARD):
                grams.append(crop_grams)
                for name, weight in self.layers[0]:
                    target = self.targets[precision][0][name][self.crops.placement(name, row,
                                                                                   column)]
                    content += weight * losses.content_normalisation(
                        features[name].shape[3], self.crops.positions[name]) * np.sum(
                            (features[name].astype(np.float64) - target) ** 2)
            style = self.style_loss(summed_grams([name for name, _ in self.layers[1]], grams))
        finally:
            self.switch(present)
        total = losses.total_loss_func(content, style, *self.weights_of_terms)
        if self.tv_weight:
            total += self.tv_weight * total_variation(image)[0]
        return np.float32(content), np.float32(style), np.float32(total)

    def assign(self, image):
        """Remember `image` as the painting's (a tiled painting has no one variable)."""
        self.image = image

    def close(self):
        self.crops.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
