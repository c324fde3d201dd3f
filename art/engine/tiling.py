"""Tiled evaluation: a large painting's loss and gradient, exactly, in bounded memory.

Gatys' losses decompose over positions, so a painting too large for one graph
is evaluated crop by crop with the untiled numbers, to float rounding:

- A feature at a position depends on the input pixels of its receptive field
  only. A crop that extends a halo of at least the field's radius beyond a
  tile's interior, with offsets on multiples of the deepest pooling stride,
  computes the interior's features exactly as the whole image does; at the
  image's borders the crop stops at the border, so SAME padding matches too.
- A STATISTIC term's S (art.engine.terms; the Gram matrix G) is a sum over
  positions: S = sum over tiles of phi(F_int) (pass 1, forward only). A
  POSITION term's loss (the content loss) is a sum over positions.
- With S known, dL/dS is a constant, and the loss's gradient at a position
  is phi's derivative there times it (for the Gram matrix 4k F_p (G - A)), a
  function of that position's features only. So pass 2 back-propagates, per
  crop, the interior's POSITION terms and each STATISTIC term's dL/dS, with S
  fed: the crops' gradients add up to the whole image's.
- Pass 1 skips the last crop: its pass-2 run is fed the other crops' part of
  S and adds its own in the graph, so every evaluation runs 2K - 1 crop
  passes for K crops, and an image of one crop costs what the untiled graph
  does.
- IMAGE terms (total variation) couple neighbouring pixels across tiles: a
  small graph of the whole image evaluates them.
- A guided term's position weights (art.engine.guides) are the whole image's,
  fed per crop at its interior, as a POSITION term's target is.
- With normalized gradients each term's scale needs its gradient's L1 norm
  over the whole image: pass 1 covers every crop, a forward pass sums the
  norms, and pass 2 is fed the scales (3K crop passes).

Every crop of an image is one shape, so its crop graph is built once and
finalized, with its input as its one variable, as art.py's graph has.
"""

import numpy as np

from art.engine.adam_moments import AdamMoments
from art.engine.backward import NORM_EPSILON
from art.constants import FINISH_PRECISION
from art.engine.crop_graph import CropGraph, ImageTerms
from art.engine.crops import spans
from art.engine.evaluator import (Losses, ObjectiveEvaluator, capture_weights, group_losses,
                                  painting_configs, painting_phases)
from art.network.layers import aligned_tile, deepest_layer, halo_for, receptive_field
from art.engine.painting import session_configs
from art.engine.terms import IMAGE, POSITION

# The crop graphs' two runs, the only fetches they see: each new (feeds, fetches)
# a session runs gets an executor of its own, rewritten and allocated anew. So
# the captures run pass 1's fetches, and pass 2 fetches the statistics it
# computes anyway.
FORWARD = ('captures',)
BACKWARD = ('losses', 'gradient', 'statistics')
# With normalized gradients, between the two: each term's |dL/dF|_1 at the interior.
NORMS = ('norms',)


def feature_rows(start, end, crop_start, stride):
    """(first, count) of the feature rows of pixels [start, end) within a crop that starts at
    crop_start, at a layer of `stride`: the whole image's rows start/stride .. ceil(end/stride)."""
    return (start - crop_start) // stride, -(-end // stride) - start // stride


class Crops:
    """The crop graphs of one image size: a VGG-19 per crop shape, each reporting its
    interior's captures (art.engine.terms) and pass 2's losses and gradient.

    `positions` are the whole image's M at each layer, so each crop's terms
    carry the whole image's normalisation (eq. 1 and 4). `configs` maps
    precisions to session configs, as Painting's; crops run in `precision`'s
    session.
    """

    def __init__(self, weights, size, *, tile, halo, objective, pooling, configs):
        self.size, self.objective = size, objective
        used = objective.layers()
        self.last_layer = deepest_layer(used, pooling)
        stride = receptive_field(self.last_layer, pooling)[0]
        self.rows, self.columns = (spans(length, tile, halo, stride) for length in size)
        self.strides = {name: receptive_field(name, pooling)[0] for name in used}
        self.positions = {name: int(np.prod(self.feature_size(name))) for name in used}
        self.weights, self.pooling, self.configs = weights, pooling, configs
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
        top, left = row.start // stride, column.start // stride
        return (slice(None), slice(top, top + rows), slice(left, left + columns))

    def interior(self, name, row, column):
        """(first row, rows, first column, columns) of a crop's interior at layer `name`."""
        stride = self.strides[name]
        first_row, rows = feature_rows(row.start, row.end, row.crop_start, stride)
        first_column, columns = feature_rows(column.start, column.end, column.crop_start,
                                             stride)
        return first_row, rows, first_column, columns

    def graph(self, height, width):
        """The crop graph of this shape, built and finalized on first use."""
        if (height, width) not in self.graphs:
            self.graphs[height, width] = CropGraph(self, height, width)
        return self.graphs[height, width]

    def run(self, image, fetch, weights, feeds=None, crops=None):
        """Yield (row span, column span, the fetched values) of each crop of `image`.

        `fetch` names the crop graph's tensors, FORWARD or BACKWARD; `weights` are
        the guided terms' position weights of the whole image ({index: (1, h, w, 1)}),
        fed by each crop's interior; `feeds(graph, row, column)` adds to the feed;
        `crops` are (row span, column span) pairs, every crop by default.
        """
        for row, column in self.crops() if crops is None else crops:
            crop = image[:, row.crop_start:row.crop_end, column.crop_start:column.crop_end, :]
            graph = self.graph(*crop.shape[1:3])
            tensors = tuple(getattr(graph, name) for name in fetch)
            feed = feeds(graph, row, column) if feeds else {}
            for index, values in weights.items():
                layer = self.objective.terms[index].layer
                feed[graph.weights[index]] = values[self.placement(layer, row, column)]
            yield row, column, graph.run(tensors, crop, self.interior, row, column, feed)

    def source_weights(self, guides):
        """Each guided term's weights for a capture on these crops (capture_weights)."""
        return capture_weights(guides, lambda index: (1,) + self.feature_size(
            self.objective.terms[index].layer) + (1,))

    def zeros(self):
        """{index: 0} of each STATISTIC term, of its statistic's shape (float64)."""
        row, column = self.crops()[0]
        graph = self.graph(row.crop_end - row.crop_start, column.crop_end - column.crop_start)
        return {index: np.zeros(graph.statistics[index].shape.as_list())
                for index in graph.statistics}

    def statistics(self, image, weights, crops=None):
        """Pass 1: each STATISTIC term's S, summed over the crops' interiors (float64)."""
        return summed(self.zeros(), (captures for _, _, (captures,) in
                                     self.run(image, FORWARD, weights, crops=crops)))

    def capture(self, image, weights):
        """Each term's capture of the whole image, by index: STATISTIC terms' S summed over
        the crops (float64), POSITION terms' features put together from them."""
        statistics, whole = self.zeros(), {}
        for row, column, (captures,) in self.run(image, FORWARD, weights):
            for index, values in captures.items():
                if index in statistics:
                    statistics[index] = statistics[index] + values
                    continue
                name = self.objective.terms[index].layer
                if index not in whole:
                    whole[index] = np.zeros((1,) + self.feature_size(name) + values.shape[3:],
                                            np.float32)
                whole[index][self.placement(name, row, column)] = values
        whole.update(statistics)
        return whole

    def close(self):
        for graph in self.graphs.values():
            for session in graph.sessions.values():
                session.close()


def summed(zeros, parts):
    """`zeros` ({index: array}) plus each of `parts`' values at those indices, in float64."""
    totals = dict(zeros)
    for part in parts:
        for index in totals:
            totals[index] = totals[index] + part[index].astype(np.float64)
    return totals


class TiledPainting(ObjectiveEvaluator):
    """A Painting evaluated crop by crop: the same losses and gradient, to float rounding,
    in the memory of one crop's graph. The optimizers see the same Evaluator.

    `tile` is the interior's side in pixels, rounded up to the deepest pooling
    stride; `halo` defaults to the receptive field's radius rounded up to it.
    The other options are Painting's. Adam's moments live beside the image, in
    numpy (art.adam), since the image is no one variable here.
    """

    def __init__(self, weights, content_image, style_image, tile, *, configs=None, halo=None,
                 **options):
        super().__init__(content_image, style_image, **options)
        configs = painting_configs(configs, session_configs(FINISH_PRECISION))
        stride, radius_halo = halo_for(self.last_layer, self.pooling)
        self.tile = aligned_tile(tile, stride)
        self.halo = radius_halo if halo is None else halo
        self.weights = weights
        self.painting_weights = {index: guide.painting for index, guide in self.guides.items()}
        self.crops = self._crops(self.shape[1:3], configs)
        self.positions = self.crops.positions
        self.phases = painting_phases(configs, mixed=False)
        # Each precision's targets, captured in its own arithmetic (as Painting's).
        for precision, config in configs.items():
            self.switch(precision)
            self.capture_targets(precision, config)
        self.image_terms = (ImageTerms(self.objective, self.shape, configs[FINISH_PRECISION],
                                       self.normalizers[FINISH_PRECISION])
                            if self.objective.of_kind(IMAGE) else None)
        self.switch(self.phases[0])
        self.adam = AdamMoments(self.learning_rate)
        self.image = None

    def _crops(self, size, configs):
        return Crops(self.weights, size, tile=self.tile, halo=self.halo,
                     objective=self.objective, pooling=self.pooling, configs=configs)

    def _capture(self, image, indices):
        captured = self.crops.capture(image, self.crops.source_weights(self.guides))
        return {index: captured[index] for index in indices}

    def _capture_elsewhere(self, image, indices, config):
        """Captures on crops of the image's own size (sessions of `config`)."""
        crops = self._crops(np.shape(image)[1:3], {FINISH_PRECISION: config})
        try:
            captured = crops.capture(image, crops.source_weights(self.guides))
        finally:
            crops.close()
        return {index: captured[index] for index in indices}, crops.positions

    def switch(self, precision):
        """Run the crops in `precision`'s sessions from now on (they hold no state)."""
        self.precision = self.crops.precision = precision

    def _feeds(self, statistics, own, scales):
        """The feeds of a pass-2 (or norms) run: S from `statistics`, `own`, the targets (a
        POSITION term's at the crop's interior) and the normalised terms' `scales`."""
        targets = self.targets[self.precision]
        normalizers = self.normalizers[self.precision]

        def feeds(graph, row, column):
            feed = {graph.fed[index]: value for index, value in statistics.items()}
            feed.update((fed, normalizers.get(index, 1.0))
                        for index, fed in graph.normalizers.items())
            feed[graph.own] = own
            feed.update((graph.scales[index], scale) for index, scale in scales.items())
            for index, target in graph.targets.items():
                term = self.objective.terms[index]
                feed[target] = (targets[index][self.crops.placement(term.layer, row, column)]
                                if term.kind == POSITION else targets[index])
            return feed
        return feeds

    def _second_pass(self, image, crops, statistics, own, gradient, scales):
        """Pass 2 over `crops` with S from `statistics`, plus each crop's own where `own` is
        1, adding to `gradient`: ({index: loss} of the terms, POSITION ones summed over
        the crops, and the crops' own statistics summed, where `own` is 1)."""
        term_losses, own_statistics = {}, []
        for row, column, (crop_losses, crop_gradient, crop_statistics) in self.crops.run(
                image, BACKWARD, self.painting_weights, self._feeds(statistics, own, scales),
                crops):
            for index, loss in crop_losses.items():
                term_losses[index] = term_losses.get(index, 0.0) + float(loss)
            gradient[:, row.crop_start:row.crop_end, column.crop_start:column.crop_end] += \
                crop_gradient
            if own:
                own_statistics.append(crop_statistics)
        return term_losses, summed(self.crops.zeros(), own_statistics)

    def _scales(self, image, whole):
        """{index: weight / (|weight dL/dF|_1 + weight eps)} of each non-IMAGE term: its
        gradient's normalisation (Objective.normalize_gradients), over every crop."""
        norms = {}
        for _, _, (crop_norms,) in self.crops.run(image, NORMS, self.painting_weights,
                                                  self._feeds(whole, 0.0, {})):
            for index, norm in crop_norms.items():
                norms[index] = norms.get(index, 0.0) + float(norm)
        factors = {index: self.objective.factor(self.objective.terms[index]) for index in norms}
        return {index: factors[index] / (norm + factors[index] * NORM_EPSILON)
                for index, norm in norms.items()}

    def _evaluate(self, image):
        """(the terms' losses in order, gradient) at `image`: pass 1 for S of every crop but
        the last, then pass 2 per crop, the last first (it completes S). With normalized
        gradients, pass 1 covers every crop and the norms' pass comes before pass 2."""
        *others, last = self.crops.crops()
        gradient = np.zeros(self.shape, np.float32)
        if self.objective.normalize_gradients:
            whole = self.crops.statistics(image, self.painting_weights)
            scales = self._scales(image, whole)
            first, _ = self._second_pass(image, [last], whole, 0.0, gradient, scales)
        else:
            rest = self.crops.statistics(image, self.painting_weights, others)
            first, last_statistics = self._second_pass(image, [last], rest, 1.0, gradient, {})
            whole = {index: rest[index] + last_statistics[index] for index in rest}
            scales = {}
        second, _ = self._second_pass(image, others, whole, 0.0, gradient, scales)
        term_losses = [0.0] * len(self.objective.terms)
        for index, loss in first.items():
            # A STATISTIC term's loss is the whole image's in every run: once, from the first.
            term_losses[index] = loss + (second.get(index, 0.0)
                                         if self.objective.terms[index].kind == POSITION else 0.0)
        if self.image_terms is not None:
            image_losses, image_gradient = self.image_terms.run(image)
            for index, loss in image_losses.items():
                term_losses[index] = float(loss)
            gradient += image_gradient
        return term_losses, gradient

    def _losses(self, term_losses, *more):
        """Losses (content, style, total, *more) as float32 from the terms' losses."""
        groups = self.objective.groups(term_losses)
        return Losses(tuple(np.float32(value) for value in group_losses(groups)
                            + (self.objective.total(groups),)) + more, groups)

    def evaluate(self, image):
        """Losses and gradient at `image`: Losses (content, style, total, gradient), as
        Painting's."""
        term_losses, gradient = self._evaluate(image)
        self.evaluations += 1
        self.image = image
        return self._losses(term_losses, gradient)

    def losses_at(self, image, precision=None):
        """Losses (content, style, total) at `image` in `precision` (the painting's own by
        default), not counted as an evaluation."""
        present = self.precision
        self.switch(precision or present)
        try:
            return self._losses(self._evaluate(image)[0])
        finally:
            self.switch(present)

    def assign(self, image):
        """Remember `image` as the painting's (a tiled painting has no one variable)."""
        self.image = image

    def reset_adam(self, image):
        """Adam's moments zeroed, `image` the painting's (art.py before its loop)."""
        self.adam.reset(self.shape)
        self.image = np.asarray(image, np.float32)

    def adam_step(self):
        """One Adam step: Losses (content, style, total, image) of the image it started
        from."""
        start = self.image
        losses = self.evaluate(start)
        self.image = self.adam.step(start, losses[3])
        return Losses(losses[:3] + (start,), losses.groups)

    def losses_and_image(self):
        """Losses (content, style, total, image) of the painting's image."""
        losses = self.losses_at(self.image)
        return Losses(losses + (self.image,), losses.groups)

    def close(self):
        self.crops.close()
        if self.image_terms is not None:
            self.image_terms.close()
