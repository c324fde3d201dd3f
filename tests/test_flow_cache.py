"""Issue 25's flow cache: a rerun reads the flows it computed; a changed or damaged pair
is computed again."""
import numpy as np

from art.app.flow_cache import FlowCache
from helpers import clip


def test_flows_are_computed_once_and_again_when_a_frame_changes(tmp_path):
    pictures = [frame.astype(np.uint8) for frame in clip(3)[0]]
    first = FlowCache(str(tmp_path / 'flows'))
    computed = [first.flows(index, pictures[index - 1], pictures[index]) for index in (1, 2)]
    assert first.computed == 2
    again = FlowCache(str(tmp_path / 'flows'))
    for index, (forward, backward) in zip((1, 2), computed):
        kept = again.flows(index, pictures[index - 1], pictures[index])
        assert np.array_equal(kept[0], forward) and np.array_equal(kept[1], backward)
    assert again.computed == 0
    changed = pictures[2].copy()
    changed[0, 0] ^= 1
    again.flows(2, pictures[1], changed)
    (tmp_path / 'flows' / 'flow-00001.npz').write_bytes(b'damaged')
    again.flows(1, pictures[0], pictures[1])
    assert again.computed == 2
