"""TensorFlow, imported once with this project's settings; `tf1` is its TF1 API.

Every module that builds graphs imports TensorFlow from here, so the settings
below are in place whichever module comes first.
"""
import contextlib
import ctypes
import os
import sys
import tempfile

# Read by TensorFlow once, at import: oneDNN's kernels are off by default on
# CPUs without AVX-512 and make VGG about 1.5x faster here; INFO and WARNING
# lines from TensorFlow's C++ side are noise to users.
os.environ.setdefault('TF_ENABLE_ONEDNN_OPTS', '1')
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
# Read when a bfloat16 session's graph is rewritten: its Gram matrices' products
# and the losses' differences (G - A, F - P) stay float32. In bfloat16 each Gram
# entry is rounded to 2^-9 of itself, a floor the style loss's residual cannot
# fall below; from float32 products of bfloat16 features the rounding averages
# out over the positions (bench/RESULTS.md).
os.environ.setdefault('TF_AUTO_MIXED_PRECISION_GRAPH_REWRITE_ALLOWLIST_REMOVE', 'MatMul')
os.environ.setdefault('TF_AUTO_MIXED_PRECISION_GRAPH_REWRITE_INFERLIST_REMOVE', 'Sub')

# glibc's malloc raises its mmap threshold to the size of each large block freed
# (up to 32 MB), after which a layer's buffers come from heaps that keep what is
# freed: the resident memory of a painting only grows. A fixed threshold maps
# blocks of 1 MB and more and hands them back when freed (a 1184x1184 crop's
# evaluation peaks at 3.9 GiB instead of 4.4, bench/RESULTS.md). Elsewhere
# there is no mallopt and nothing to do.
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 2**20


def _map_large_blocks():
    """Set glibc's mmap threshold to MMAP_THRESHOLD, where there is glibc."""
    try:
        ctypes.CDLL(None).mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    except (AttributeError, OSError):
        pass


_map_large_blocks()

# Lines TensorFlow's C++ side writes to fd 2 whatever TF_CPP_MIN_LOG_LEVEL says:
# at import, and (the CUDA ones, from the full package on a machine without
# a GPU) when it looks for GPUs.
NOISE = ('All log messages before absl::InitializeLog()',
         'oneDNN custom operations are on',
         'Could not find cuda drivers on your machine',
         'failed call to cuInit')


@contextlib.contextmanager
def quiet_stderr():
    """Pass on all that is written to fd 2 inside, but the lines of NOISE."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            for line in captured.read().decode(errors='replace').splitlines(True):
                if not any(noise in line for noise in NOISE):
                    sys.stderr.write(line)


def _import_quietly():
    """Import TensorFlow without its start-up noise."""
    if 'tensorflow' in sys.modules:
        return sys.modules['tensorflow']
    with quiet_stderr():
        import tensorflow  # pylint: disable=import-outside-toplevel
    return tensorflow


tf = _import_quietly()
tf1 = tf.compat.v1
