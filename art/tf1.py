"""TensorFlow, imported once with this project's settings; `tf1` is its TF1 API.

Every module that builds graphs imports TensorFlow from here, so the settings
below are in place whichever module comes first.
"""
import contextlib
import os
import sys
import tempfile

# Read by TensorFlow once, at import: oneDNN's kernels are off by default on
# CPUs without AVX-512 and make VGG about 1.5x faster here; INFO and WARNING
# lines from TensorFlow's C++ side are noise to users.
os.environ.setdefault('TF_ENABLE_ONEDNN_OPTS', '1')
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

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
