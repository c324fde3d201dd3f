"""load_vgg_model: art.py's graph, in the caller's graph, with the one variable."""
import numpy as np
import pytest
import tensorflow as tf

import art
from art.engine import costs
from art.network.layers import layer_names

tf1 = tf.compat.v1


@pytest.fixture(scope='module')
def weights():
    return art.synthetic_weights(width_divisor=16, seed=1)


def test_builds_into_the_callers_default_graph(weights):
    graph = tf.Graph()
    with graph.as_default():
        model = art.load_vgg_model(weights, 16, 24)
    assert model['conv1_1'].graph is graph and model['input'].graph is graph
    assert graph.get_collection(tf1.GraphKeys.GLOBAL_VARIABLES) == [model['input']]


def test_weights_are_constants_and_fc_layers_are_not_built(weights):
    with tf.Graph().as_default() as graph:
        art.load_vgg_model(weights, 16, 24)
    types = {op.type for op in graph.get_operations()}
    kernels = [op for op in graph.get_operations() if op.type == 'Const'
               and op.outputs[0].shape.rank == 4 and op.outputs[0].shape[0] == 3]
    assert len(kernels) == 16
    assert 'MatMul' not in types and 'Softmax' not in types


def test_layer_shapes_follow_pooling(weights):
    with tf.Graph().as_default():
        model = art.load_vgg_model(weights, 48, 64)
    assert model['conv1_1'].shape == (1, 48, 64, 4)
    assert model['avgpool1'].shape == (1, 24, 32, 4)
    assert model['conv4_2'].shape == (1, 6, 8, 32)
    assert model['avgpool5'].shape == (1, 2, 2, 32)


def test_max_pooling_names_and_values(weights):
    image = np.random.RandomState(0).uniform(-100, 100, (1, 16, 24, 3)).astype(np.float32)
    outputs = {}
    for pooling in ('avg', 'max'):
        with tf.Graph().as_default(), tf1.Session() as sess:
            model = art.load_vgg_model(weights, 16, 24, pooling=pooling)
            assert '%spool3' % pooling in model
            sess.run(model['input'].initializer)
            sess.run(model['assign_input'], {model['image']: image})
            outputs[pooling] = sess.run(model['conv2_1'])
    assert not np.allclose(outputs['avg'], outputs['max'])


def test_last_layer_prunes_the_graph(weights):
    with tf.Graph().as_default():
        model = art.load_vgg_model(weights, 16, 24, last_layer='conv3_1')
    assert model['layers'][-1] == 'conv3_1' and 'conv3_2' not in model
    with tf.Graph().as_default(), pytest.raises(ValueError, match='unknown layer'):
        art.load_vgg_model(weights, 16, 24, last_layer='fc6')


def test_unfed_runs_see_the_variable_and_fed_runs_assign_it(weights):
    first = np.full((1, 16, 24, 3), 5.0, np.float32)
    second = np.full((1, 16, 24, 3), -7.0, np.float32)
    with tf.Graph().as_default(), tf1.Session() as sess:
        model = art.load_vgg_model(weights, 16, 24)
        sess.run(model['input'].initializer)
        sess.run(model['assign_input'], {model['image']: first})
        np.testing.assert_array_equal(sess.run(model['input_value']), first)
        seen = sess.run(model['input_value'], {model['image']: second})
        np.testing.assert_array_equal(seen, second)
        np.testing.assert_array_equal(sess.run(model['input']), second)


def test_layer_names_in_build_order():
    names = layer_names()
    assert names[:3] == ('conv1_1', 'conv1_2', 'avgpool1')
    assert names[-2:] == ('conv5_4', 'avgpool5')
    assert len(names) == 21


def test_weights_as_variables_see_what_constants_see_and_stay_out_of_the_graph():
    weights = art.synthetic_weights(width_divisor=4, seed=2)
    image = np.random.RandomState(3).uniform(-100, 100, (1, 16, 24, 3)).astype(np.float32)
    seen, graph_bytes = {}, {}
    for form in art.engine.vgg.WEIGHT_FORMS:
        with tf.Graph().as_default() as graph, tf1.Session() as sess:
            model = art.load_vgg_model(weights, 16, 24, weights=form)
            art.engine.vgg.initialize(sess, model)
            seen[form] = sess.run(model['conv5_1'], {model['image']: image})
            graph_bytes[form] = graph.as_graph_def().ByteSize()
            variables = graph.get_collection(tf1.GraphKeys.GLOBAL_VARIABLES)
        assert variables == [model['input']]
    # oneDNN's AVX2 kernels take a constant's kernel in a layout of their own, and sum its
    # products in another order than a variable's
    assert np.linalg.norm(seen['variables'] - seen['constants']) <= 1e-6 * np.linalg.norm(
        seen['constants'])
    # every executor and rewrite copies a constant; the variables' values are fed once
    to_conv5_1 = costs.weight_bytes(weights.widths())
    assert graph_bytes['constants'] > to_conv5_1 > 20 * graph_bytes['variables']


def test_unknown_weight_form_is_refused(weights):
    with tf.Graph().as_default(), pytest.raises(ValueError, match='weights must be one of'):
        art.load_vgg_model(weights, 16, 24, weights='frozen')


@pytest.mark.parametrize('form', ['variables', 'constants'])
def test_the_engine_holds_its_weights_in_the_form_chosen_for_the_cpu(form, monkeypatch):
    """art.engine.cpu.weight_form chooses per CPU; whichever it is, the painting holds its
    weights so (as variables the graph is smaller than the weights) and evaluates alike."""
    import art.engine.painting  # pylint: disable=import-outside-toplevel
    monkeypatch.setattr(art.engine.painting, 'engine_weight_form', lambda: form)
    weights = art.synthetic_weights(width_divisor=4, seed=2)
    content = np.random.RandomState(4).uniform(-100, 100, (1, 16, 24, 3)).astype(np.float32)
    start = art.generate_noise_image(content, seed=1)
    with art.Painting(weights, content, content) as painting:
        graph_def = painting.graph.as_graph_def()
        kernels = [node.name for node in graph_def.node if node.op == 'Const'
                   and [dim.size for dim in node.attr['value'].tensor.tensor_shape.dim][:2]
                   == [3, 3]]
        evaluated = painting.evaluate(start)
    if form == 'variables':
        # the graph carries the captured targets as constants, but is smaller than the
        # weights it uses: they cannot be in it
        assert graph_def.ByteSize() < costs.weight_bytes(weights.widths(), painting.last_layer)
        assert kernels == []
    else:
        assert len(kernels) == len(painting.model['kernels']) and not painting.model[
            'weights_feed']
    monkeypatch.setattr(art.engine.painting, 'engine_weight_form', lambda: 'variables')
    with art.Painting(weights, content, content) as painting:
        *losses, gradient = painting.evaluate(start)
    np.testing.assert_allclose(evaluated[:3], losses, rtol=1e-5)
    assert np.linalg.norm(evaluated[3] - gradient) <= 1e-5 * np.linalg.norm(gradient)
