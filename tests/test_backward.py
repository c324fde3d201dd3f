"""art.engine.backward: the image gradient built layer by layer, its convolutions' products in
bfloat16 ('mixed'), against tf.gradients'."""
import numpy as np
import pytest

import art
from art.engine import backward, losses
from art.engine.painting import Painting, session_config
from art.engine.tf1 import tf, tf1
from art.engine.vgg import load_vgg_model

TWO_FLOAT32 = {'bfloat16': session_config('float32'), 'float32': session_config('float32')}


@pytest.fixture(scope='module')
def gradients():
    """tf.gradients' image gradient and art.engine.backward's in float32 and in bfloat16, of a
    loss on three layers (one of them a pooling's input) and on the image itself."""
    weights = art.synthetic_weights(width_divisor=16)
    image = art.generate_noise_image(
        np.random.default_rng(3).uniform(-100, 100, (1, 24, 32, 3)).astype(np.float32),
        0.6, seed=1)
    with tf.Graph().as_default() as graph:
        model = load_vgg_model(weights, 24, 32, last_layer='conv3_1')
        loss = (tf.reduce_sum(tf.square(model['conv1_2'])) + tf.reduce_sum(model['conv2_1'])
                + 1e-3 * tf.reduce_sum(tf.square(model['conv3_1']))
                + losses.total_variation_loss(model['input_value']))
        built = [backward.image_gradient(model, loss, dtype) for dtype in (tf.float32,
                                                                          tf.bfloat16)]
        plain = tf1.gradients(loss, model['input'])[0]
        with tf1.Session(graph=graph, config=session_config()) as sess:
            sess.run(model['input'].initializer)
            return sess.run([plain] + built, {model['image']: image})


def test_in_float32_it_is_tf_gradients_own(gradients):
    plain, float32, _ = gradients
    np.testing.assert_allclose(float32, plain, rtol=1e-4, atol=1e-6 * np.abs(plain).max())


def test_in_bfloat16_it_errs_by_bfloat16s_rounding_only(gradients):
    plain, _, bfloat16 = gradients
    error = np.linalg.norm(bfloat16 - plain) / np.linalg.norm(plain)
    assert 0 < error < 0.03  # bfloat16 keeps 8 bits: a relative 2^-9 per product


def test_a_mixed_painting_evaluates_float32_losses_with_a_close_gradient():
    weights = art.synthetic_weights(width_divisor=16)
    rng = np.random.default_rng(4)
    content, style = (rng.uniform(-100, 100, (1, 24, 32, 3)).astype(np.float32) for _ in '12')
    start = art.generate_noise_image(content, 0.6, seed=1)
    with Painting(weights, content, style, configs=TWO_FLOAT32) as painting:
        painting.switch('float32')
        *exact, gradient = painting.evaluate(start)
        painting.switch('mixed')
        *losses, mixed = painting.evaluate(start)
    assert losses == exact
    assert 0 < np.linalg.norm(mixed - gradient) / np.linalg.norm(gradient) < 0.03
