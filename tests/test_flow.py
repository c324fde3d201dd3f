"""Issue 25's first piece: optical flow between content frames, the warp that carries a
painted frame along it, and the consistency weights of Ruder et al.'s temporal loss, on
a generated clip (a textured square moving over a textured background)."""
import numpy as np
import pytest

from art.examples import texture
from art.engine.flow import consistency_weights, optical_flow, warp
from helpers import CLIP_SQUARE as SQUARE, CLIP_STEP as STEP, clip

@pytest.fixture(scope='module')
def frames():
    return clip()


def inside(place, margin=6):
    top, left = place
    return (slice(top + margin, top + SQUARE - margin), slice(left + margin, left + SQUARE - margin))


def test_the_flow_follows_the_square_and_keeps_the_background(frames):
    pictures, places = frames
    forward = optical_flow(pictures[4], pictures[5])
    np.testing.assert_allclose(np.median(forward[inside(places[4])].reshape(-1, 2), axis=0),
                               STEP, atol=0.5)  # measured: within 0.17 px
    corner = forward[:12, -30:].reshape(-1, 2)  # background the square never reaches
    assert np.abs(np.median(corner, axis=0)).max() < 0.1


def test_the_warped_frame_matches_the_next_where_the_flow_is_trusted(frames):
    """Inside the moving square, frame i-1 warped along the backward flow is far nearer
    frame i than frame i-1 itself is; most pixels are trusted."""
    pictures, places = frames
    for index in (3, 8):
        backward = optical_flow(pictures[index], pictures[index - 1])
        forward = optical_flow(pictures[index - 1], pictures[index])
        weights = consistency_weights(forward, backward)
        square = inside(places[index])
        trusted = weights[square] == 1
        warped = warp(pictures[index - 1], backward)[square]
        error = np.abs(warped - pictures[index][square]).mean(axis=2)[trusted].mean()
        unwarped = np.abs(pictures[index - 1][square]
                          - pictures[index][square]).mean(axis=2)[trusted].mean()
        assert weights.mean() > 0.85 and trusted.mean() > 0.85
        assert error < 0.25 * unwarped, (error, unwarped)


def test_disoccluded_pixels_get_no_weight(frames):
    """The strip the square uncovers (behind it, background the previous frame did not
    show) is mostly untrusted; the background far from the square is trusted."""
    pictures, places = frames
    index = 6
    backward = optical_flow(pictures[index], pictures[index - 1])
    forward = optical_flow(pictures[index - 1], pictures[index])
    weights = consistency_weights(forward, backward)
    top, left = places[index - 1]
    uncovered = weights[top + 4:top + SQUARE - 4, left:left + STEP[0]]
    assert (uncovered == 0).mean() > 0.5, uncovered
    assert weights[:12, -30:].mean() == 1.0


def test_warp_moves_an_image_by_a_constant_flow():
    image = texture(20, 24, seed=3)
    flow = np.zeros((20, 24, 2), np.float32)
    flow[..., 0] = 2  # out(x) = image(x + 2)
    np.testing.assert_allclose(warp(image, flow)[:, :-2], image[:, 2:], atol=1e-4)
