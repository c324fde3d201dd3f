"""Optical flows of a clip cached beside its output, so that a rerun (after Ctrl-C, a crash
or a changed iteration count) does not compute them again. One file per frame pair,
flow-NNNNN.npz, holding both directions and a key of the two frames it was computed from:
a frame that changed has another key, and its flows are computed again.

Beside them, painted-NNNNN.png: the last frame painted as the network painted it (before
--preserve-colors or --color-control luminance join it with the content's colours),
which a resumed clip goes on from."""
import hashlib
import os
import zipfile

import numpy as np

from art.engine.flow import optical_flow
from art.app.errors import UsageError
from art.io.files import read_rgb, save_rgb, write_atomic
from art.io.images import preprocess


def frames_key(first, second):
    """SHA-256 of two frames' shapes and pixels."""
    digest = hashlib.sha256()
    for frame in (first, second):
        digest.update(repr(frame.shape).encode())
        digest.update(np.ascontiguousarray(frame).tobytes())
    return digest.hexdigest()


class FlowCache:
    """The flows between frame pairs of a clip, read from `folder` or computed and kept there.
    `computed` counts the pairs computed by this cache."""

    def __init__(self, folder):
        self.folder, self.computed = folder, 0

    def path(self, index):
        return os.path.join(self.folder, 'flow-%05d.npz' % index)

    def _kept(self, path, key):
        """(forward, backward) kept at `path` for `key`, or None (missing, stale, damaged)."""
        try:
            with np.load(path) as kept:
                if str(kept['key']) == key:
                    return kept['forward'], kept['backward']
        except (OSError, ValueError, KeyError, zipfile.BadZipFile):
            pass
        return None

    def painting_path(self, index):
        return os.path.join(self.folder, 'painted-%05d.png' % (index + 1))

    def keep_painting(self, index, pixels):
        """Keep frame `index`'s painting (uint8 RGB) in place of the one before it."""
        os.makedirs(self.folder, exist_ok=True)
        save_rgb(self.painting_path(index), pixels)
        if index and os.path.exists(self.painting_path(index - 1)):
            os.remove(self.painting_path(index - 1))

    def painting(self, index):
        """Frame `index`'s painting, network space, as keep_painting kept it; UsageError
        when it is gone."""
        path = self.painting_path(index)
        if not os.path.exists(path):
            raise UsageError('%s is missing: the clip cannot go on from frame %d; delete the '
                             "clip's record to paint it again" % (path, index + 2))
        pixels = read_rgb(path)
        return preprocess(pixels, *pixels.shape[:2])

    def flows(self, index, first, second):
        """(forward, backward) between frame index - 1 (`first`) and frame index (`second`)."""
        key = frames_key(first, second)
        path = self.path(index)
        kept = self._kept(path, key)
        if kept is not None:
            return kept
        forward, backward = optical_flow(first, second), optical_flow(second, first)
        os.makedirs(self.folder, exist_ok=True)

        def write(partial):
            with open(partial, 'wb') as handle:
                np.savez(handle, key=key, forward=forward, backward=backward)

        write_atomic(path, write)
        self.computed += 1
        return forward, backward
