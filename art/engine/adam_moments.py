"""Adam outside a graph: tf.train.AdamOptimizer's update in numpy, for an evaluator whose
image is not one variable (a tiled painting's).

Kingma & Ba's Adam as TensorFlow's ApplyAdam kernel computes it, in float32:
alpha = lr sqrt(1 - beta2^t) / (1 - beta1^t); m += (g - m)(1 - beta1);
v += (g^2 - v)(1 - beta2); x -= alpha m / (sqrt(v) + epsilon).
"""
import numpy as np

from art.constants import LEARNING_RATE


class AdamMoments:
    """Adam's moments and step count beside an image, as tf.train.AdamOptimizer keeps them
    (its default beta1 0.9, beta2 0.999, epsilon 1e-8)."""

    def __init__(self, learning_rate=LEARNING_RATE, beta1=0.9, beta2=0.999, epsilon=1e-8):
        self.learning_rate, self.beta1, self.beta2, self.epsilon = (
            np.float32(value) for value in (learning_rate, beta1, beta2, epsilon))
        self.moments = None
        self.powers = None

    def reset(self, shape):
        """Moments zeroed and the step count back to 0 (the optimizer's initializer)."""
        self.moments = (np.zeros(shape, np.float32), np.zeros(shape, np.float32))
        self.powers = (self.beta1, self.beta2)

    def step(self, image, gradient):
        """The image after one step from `image` along `gradient`."""
        first, second = self.moments
        beta1_power, beta2_power = self.powers
        one = np.float32(1)
        alpha = self.learning_rate * np.sqrt(one - beta2_power) / (one - beta1_power)
        first += (gradient - first) * (one - self.beta1)
        second += (np.square(gradient) - second) * (one - self.beta2)
        self.powers = (beta1_power * self.beta1, beta2_power * self.beta2)
        return image - first * alpha / (np.sqrt(second) + self.epsilon)
