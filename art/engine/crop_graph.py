"""The graphs a tiled painting runs: one per crop shape (`CropGraph`: the interiors' captures,
and pass 2's losses and gradient), and one of the whole image for its IMAGE terms
(`ImageTerms`). art.engine.tiling drives them."""
from art.constants import ART_PY
from art.engine.cpu import engine_weight_form
from art.engine.stops import StoppableSession
from art.engine.terms import IMAGE, POSITION, STATISTIC, statistic_of
from art.engine.tf1 import tf, tf1
from art.engine.vgg import initialize, load_vgg_model



def interiors_of(model, names):
    """{layer: its interior, a slice of begin and count fed per crop} and those feeds."""
    interiors, slices = {}, {}
    for name in names:
        begin = tf1.placeholder(tf.int32, (4,))
        count = tf1.placeholder(tf.int32, (4,))
        slices[name] = (begin, count)
        interiors[name] = tf.slice(model[name], begin, count)
        interiors[name].set_shape((1, None, None, model[name].shape[3]))
    return interiors, slices


class CropGraph:
    """One crop shape's graph: interiors sliced at every layer, pass 1's captures, and
    pass 2's interior losses and their gradient with the targets and S fed."""

    def __init__(self, crops, height, width):
        objective = crops.objective
        self.graph = tf.Graph()
        with self.graph.as_default():
            model = load_vgg_model(crops.weights, height, width, crops.pooling,
                                   last_layer=crops.last_layer, weights=engine_weight_form())
            self.image = model['image']
            interiors, self.slices = interiors_of(model, crops.strides)
            self.captures, self.statistics = {}, {}
            # A guided term's position weights at its interior, fed per crop.
            self.weights = {index: tf1.placeholder(tf.float32, (1, None, None, 1))
                            for index, term in enumerate(objective.terms)
                            if term.guide is not None}
            for index, term in enumerate(objective.terms):
                if term.kind == STATISTIC:
                    self.statistics[index] = statistic_of(term, interiors[term.layer],
                                                          self.weights.get(index))
                    self.captures[index] = self.statistics[index]
                elif term.kind == POSITION:
                    self.captures[index] = interiors[term.layer]
            self.targets, self.fed, self.normalizers = {}, {}, {}
            # 1 in the run that completes pass 1: S is then the fed part plus this
            # crop's own, held constant as the fed part is.
            self.own = tf1.placeholder_with_default(tf.constant(0.0, tf.float64), ())
            self.losses, self.norms, self.scales, upstream = {}, {}, {}, {}
            for index, term in enumerate(objective.terms):
                if term.kind == IMAGE:
                    continue
                self.losses[index], part = self._loss_and_part(index, term, interiors, crops)
                if objective.normalize_gradients:
                    # |part|_1 over the crops gives each term's scale, fed back in pass 2.
                    self.norms[index] = tf.reduce_sum(tf.abs(tf.cast(part, tf.float64)))
                    self.scales[index] = tf1.placeholder_with_default(
                        tf.constant(1.0, part.dtype), ())
                    part = part * self.scales[index]
                upstream[term.layer] = upstream.get(term.layer, 0) + part
            names = sorted(upstream)
            self.gradient = tf1.gradients([interiors[name] for name in names], model['input'],
                                          grad_ys=[upstream[name] for name in names])[0]
            self.sessions = {name: StoppableSession(tf1.Session(graph=self.graph, config=config))
                             for name, config in crops.configs.items()}
            for session in self.sessions.values():
                initialize(session, model)
        self.graph.finalize()
        self.crops = crops

    def _loss_and_part(self, index, term, interiors, crops):
        """A term's loss and dL/dF at its layer's interior, its weight included."""
        factor = crops.objective.factor(term)
        features, captured = interiors[term.layer], self.captures[index]
        if term.kind == POSITION:
            if term.source:
                self.targets[index] = tf1.placeholder(tf.float32, captured.shape)
            loss = self._normalized(index, term.loss(features, self.targets.get(index),
                                                     crops.positions[term.layer]), crops)
            return loss, tf1.gradients(factor * loss, features)[0]
        # S, A and f(S) in float64, as S is summed over the crops: f's differences
        # (G - A) are small beside S near the optimum.
        if term.source:
            self.targets[index] = tf1.placeholder(tf.float64, captured.shape)
        self.fed[index] = tf1.placeholder(tf.float64, captured.shape)
        whole = self.fed[index] + self.own * tf.cast(tf.stop_gradient(captured), tf.float64)
        loss = self._normalized(index, term.loss(whole, self.targets.get(index),
                                                 crops.positions[term.layer]), crops)
        d_statistic = tf.cast(tf1.gradients(factor * loss, whole)[0], captured.dtype)
        if index not in self.weights:
            return loss, term.upstream(features, d_statistic)
        return loss, term.upstream(features, d_statistic, self.weights[index])

    def _normalized(self, index, loss, crops):
        """`loss` times the term's normalizer (Objective.normalizers), fed per run, where the
        objective divides its terms by their reference losses."""
        if crops.objective.normalization == ART_PY or not crops.objective.terms[index].source:
            return loss
        self.normalizers[index] = tf1.placeholder_with_default(tf.constant(1.0, loss.dtype), ())
        return loss * self.normalizers[index]

    def run(self, fetch, crop, interior, row, column, feeds):
        """sess.run of `fetch` on `crop`, with its interior at every layer and `feeds`."""
        feed = {self.image: crop}
        for name, (begin, count) in self.slices.items():
            first_row, rows, first_column, columns = interior(name, row, column)
            feed[begin] = (0, first_row, first_column, 0)
            feed[count] = (1, rows, columns, -1)
        feed.update(feeds)
        return self.sessions[self.crops.precision].run(fetch, feed)


class ImageTerms:
    """The objective's IMAGE terms on the whole image, in a graph of their own (no
    network): their losses, each times its normalizer (Objective.normalizers; `normalizers`
    may hold other terms' too), and the gradient of their weighted sum, float32."""

    def __init__(self, objective, shape, config, normalizers):
        self.graph = tf.Graph()
        with self.graph.as_default():
            self.image = tf1.placeholder(tf.float32, shape)
            terms = objective.of_kind(IMAGE)
            self.losses = {index: term.loss(self.image, None, None) * normalizers.get(index, 1.0)
                           for index, term in terms}
            weighted = tf.add_n([objective.factor(term) * self.losses[index]
                                 for index, term in terms])
            self.gradient = tf1.gradients(weighted, self.image)[0]
            self.session = StoppableSession(tf1.Session(graph=self.graph, config=config))
        self.graph.finalize()

    def run(self, image):
        """({index: loss}, gradient) at `image`."""
        return self.session.run((self.losses, self.gradient), {self.image: image})

    def close(self):
        self.session.close()
