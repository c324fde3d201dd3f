"""The engine against numbers the original art.py produced (tests/reference)."""
import numpy as np
import pytest
import tensorflow as tf

import art

tf1 = tf.compat.v1


def relative_l2(actual, expected):
    return np.linalg.norm(np.asarray(actual, np.float64) - expected) / np.linalg.norm(expected)


def test_load_image_matches_art_py(reference):
    for name, path in (('content', reference.content_path), ('style', reference.style_path)):
        image = art.load_image(path, reference.height, reference.width)
        assert image.dtype == np.float32
        np.testing.assert_array_equal(image, reference.arrays[name])


def test_noise_image_matches_art_py_seed_1(reference):
    x0 = art.generate_noise_image(reference.arrays['content'], seed=1)
    assert x0.dtype == np.float32
    # One float32 rounding of a value near 100 at most.
    np.testing.assert_allclose(x0, reference.arrays['x0'], rtol=0, atol=2e-5)


def test_noise_image_seed_none_uses_numpy_global_state(reference):
    np.random.seed(1)
    x0 = art.generate_noise_image(reference.arrays['content'])
    np.testing.assert_allclose(x0, reference.arrays['x0'], rtol=0, atol=2e-5)


def test_art_py_main_block_reproduces_losses_at_x0(reference):
    """art.py's own sequence of calls, on our public API, gives art.py's numbers."""
    ref, arrays = reference.scalars, reference.arrays
    with tf.Graph().as_default(), tf1.Session() as sess:
        model = art.load_vgg_model(reference.weights_path, reference.height, reference.width)
        sess.run(tf1.global_variables_initializer())
        sess.run(model['assign_input'], {model['image']: arrays['content']})
        captured = sess.run(model['conv4_2'])
        assert list(captured.shape) == ref['conv4_2_content_shape']
        assert captured.sum(dtype=np.float64) == pytest.approx(ref['conv4_2_content_sum'], rel=1e-5)
        content_loss = art.content_loss_func(sess, model)
        sess.run(model['assign_input'], {model['image']: arrays['style']})
        style_loss = art.style_loss_func(sess, model)
        total_loss = art.BETA * content_loss + art.ALPHA * style_loss
        gradient = tf1.gradients(total_loss, model['input'])[0]
        sess.run(model['assign_input'], {model['image']: arrays['x0']})
        content, style, total, grad = sess.run([content_loss, style_loss, total_loss, gradient])
    assert content == pytest.approx(ref['content_loss_x0'], rel=1e-4)
    assert style == pytest.approx(ref['style_loss_x0'], rel=1e-4)
    assert total == pytest.approx(ref['total_loss_x0'], rel=1e-4)
    assert relative_l2(grad, arrays['grad_x0']) < 1e-3
    assert np.linalg.norm(grad.astype(np.float64)) == pytest.approx(ref['grad_x0_l2'], rel=1e-3)


def test_painting_evaluation_matches_art_py(reference, reference_weights):
    arrays = reference.arrays
    with art.Painting(reference_weights, arrays['content'], arrays['style']) as painting:
        content, style, total, grad = painting.evaluate(arrays['x0'])
    assert content == pytest.approx(reference.scalars['content_loss_x0'], rel=1e-4)
    assert style == pytest.approx(reference.scalars['style_loss_x0'], rel=1e-4)
    assert total == pytest.approx(reference.scalars['total_loss_x0'], rel=1e-4)
    assert relative_l2(grad, arrays['grad_x0']) < 1e-3


def test_adam_mode_reproduces_art_py_trajectory(reference, reference_weights):
    arrays, ref = reference.arrays, reference.scalars
    with art.Painting(reference_weights, arrays['content'], arrays['style'],
                      optimizer='adam', learning_rate=ref['adam_learning_rate']) as painting:
        iterates = list(art.adam(painting, arrays['x0'], ref['adam_steps']))
        trainable = painting.graph.get_collection(tf1.GraphKeys.TRAINABLE_VARIABLES)
    assert len(trainable) == ref['trainable_variables_after_adam']
    assert [it.iteration for it in iterates] == list(range(ref['adam_steps'] + 1))
    assert iterates[0].total_loss == pytest.approx(ref['total_loss_x0'], rel=1e-4)
    trajectory = np.array([it.total_loss for it in iterates[1:]], dtype=np.float64)
    np.testing.assert_allclose(trajectory, ref['adam_total_loss'], rtol=1e-3)
    assert relative_l2(iterates[-1].image, arrays['adam_final']) < 1e-3
    np.testing.assert_allclose(iterates[-1].image, arrays['adam_final'], rtol=0, atol=1e-3 * 255)


def test_model_has_art_py_keys_and_one_variable(reference):
    with tf.Graph().as_default() as graph:
        model = art.load_vgg_model(reference.weights_path, reference.height, reference.width)
        variables = graph.get_collection(tf1.GraphKeys.GLOBAL_VARIABLES)
    assert set(reference.scalars['model_keys']) <= set(model)
    assert variables == [model['input']]
    assert model['input'].shape == (1, reference.height, reference.width, 3)
    assert model['input'].dtype == tf.float32
