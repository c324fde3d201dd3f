"""Optical flow between content frames, and what Ruder, Dosovitskiy and Brox build on it
("Artistic Style Transfer for Videos", arXiv 1604.08610, section 3): the previous
painted frame warped into the next, and the per-pixel weights c of the temporal loss.
Numpy and OpenCV only.

A flow is (height, width, 2) float32, (dx, dy) per pixel, read as "the pixel at x in
frame `first` is at x + flow(x) in frame `second`". The flow is OpenCV's DIS
(dense inverse search, Kroeger et al. 2016). Farneback's is the other dense method
OpenCV has; DIS is both faster and more accurate on large motions at its medium preset.
"""
import cv2
import numpy as np

# The paper's constants of eq. 3 and 4 (section 3.1).
DISOCCLUSION_SHARE, DISOCCLUSION_FLOOR = 0.01, 0.5
BOUNDARY_SHARE, BOUNDARY_FLOOR = 0.01, 0.002


def _gray(pixels):
    """uint8 luminance of RGB pixels (any range), as the flow reads frames."""
    values = np.asarray(pixels, np.float64) @ np.array([0.299, 0.587, 0.114])
    return np.clip(np.rint(values), 0, 255).astype(np.uint8)


def optical_flow(first, second):
    """The flow from frame `first` to frame `second` (RGB pixels of one size), by DIS."""
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    return dis.calc(_gray(first), _gray(second), None).astype(np.float32)


def warp(image, flow):
    """`image` (height, width, channels) brought along `flow`: out(x) = image(x + flow(x)),
    bilinear, the border repeated where x + flow(x) leaves the image.

    With the flow from frame i to frame i-1 this carries frame i-1's painting to frame i.
    """
    height, width = flow.shape[:2]
    columns, rows = np.meshgrid(np.arange(width, dtype=np.float32),
                                np.arange(height, dtype=np.float32))
    return cv2.remap(np.asarray(image, np.float32), columns + flow[..., 0], rows + flow[..., 1],
                     cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def consistency_weights(forward, backward):
    """c for frame i, from `forward` (frame i-1 to i) and `backward` (frame i to i-1):
    0 where the two disagree (disocclusion, eq. 3) or at a motion boundary (eq. 4),
    1 elsewhere, float32 (height, width).

    With w~(x) = forward(x + backward(x)):
    disoccluded where |w~ + backward|^2 > 0.01 (|w~|^2 + |backward|^2) + 0.5;
    a boundary where |grad backward_x|^2 + |grad backward_y|^2 > 0.01 |backward|^2 + 0.002.
    """
    carried = warp(forward, backward)
    disagreement = np.sum((carried + backward) ** 2, axis=2)
    disoccluded = disagreement > DISOCCLUSION_SHARE * (
        np.sum(carried ** 2, axis=2) + np.sum(backward ** 2, axis=2)) + DISOCCLUSION_FLOOR
    slopes = sum(np.square(np.gradient(backward[..., axis], axis=spatial))
                 for axis in (0, 1) for spatial in (0, 1))
    boundary = slopes > BOUNDARY_SHARE * np.sum(backward ** 2, axis=2) + BOUNDARY_FLOOR
    return (~(disoccluded | boundary)).astype(np.float32)
