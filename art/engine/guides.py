"""Guidance channels (Gatys et al., "Controlling Perceptual Factors in Neural Style
Transfer", arXiv 1611.07865, section 4): a mask per style, brought to each layer's
positions. Numpy only: the evaluators turn the weights into constants or feeds.

A mask m is (height, width) in [0, 1] at the painting's (or a style image's) pixels.
At a layer of stride s it is downsampled as the network's 2x2 pooling downsamples the
features (each step the mean of the valid pixels of a 2x2 window, SAME padding): the
paper's plain downsampling, which keeps a soft edge soft. The paper's alternative,
propagating the mask through the convolutions so that it erodes where a receptive
field leaves the region, is not used.

The guided Gram matrix weights features by the mask, G = (m F)^T (m F) = sum_p m_p^2
F_p F_p^T, and the weights are normalised to mean 1 over the layer's M positions
(w_p = M m_p^2 / sum_q m_q^2), so that G is M times the region's mean of F_p F_p^T:
a style on a tenth of the picture is as strong per area as one on all of it, and
eq. 4's 1/(4 N^2 M^2) applies unchanged.
"""
import numpy as np


def downsample(mask, stride):
    """`mask` (height, width) at a layer of `stride` (a power of 2): 2x2 means of the valid
    pixels, log2(stride) times, as VGG's SAME pooling shrinks its features."""
    mask = np.asarray(mask, np.float64)
    while stride > 1:
        height, width = mask.shape
        padded = np.zeros((height + height % 2, width + width % 2))
        counts = np.zeros_like(padded)
        padded[:height, :width], counts[:height, :width] = mask, 1
        mask = (_pairs(padded) / _pairs(counts))
        stride //= 2
    return mask


def _pairs(values):
    """The sums of each 2x2 block of an even-sized array."""
    return values[0::2, 0::2] + values[1::2, 0::2] + values[0::2, 1::2] + values[1::2, 1::2]


def position_weights(mask, stride):
    """(1, h, w, 1) float32 weights w_p = M m_p^2 / sum m^2 of `mask` at a layer of
    `stride`: the guided Gram matrix's, mean 1 over the layer's positions."""
    squared = downsample(mask, stride) ** 2
    total = squared.sum()
    if total <= 0:
        raise ValueError('a mask is black everywhere: it marks no region for its style')
    return (squared * (squared.size / total))[None, :, :, None].astype(np.float32)
