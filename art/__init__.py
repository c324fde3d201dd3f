"""art: log0's art.py (Gatys, Ecker & Bethge, arXiv 1508.06576) as a package.

The names art.py made public are here with art.py's meaning:
`load_vgg_model`, `content_loss_func`, `style_loss_func`,
`generate_noise_image`, `load_image`, `save_image` and its constants.
"""
import os
import sys
import tempfile

# Set before TensorFlow is imported, which reads them once: oneDNN's kernels
# are off by default on CPUs without AVX-512 and make VGG about 1.5x faster
# here; INFO and WARNING lines from TensorFlow's C++ side are noise to users.
os.environ.setdefault('TF_ENABLE_ONEDNN_OPTS', '1')
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

# Lines TensorFlow writes to fd 2 at import whatever TF_CPP_MIN_LOG_LEVEL says.
_IMPORT_NOISE = ('All log messages before absl::InitializeLog()',
                 'oneDNN custom operations are on')


def _import_tensorflow_quietly():
    """Import TensorFlow, passing on all it writes to stderr but _IMPORT_NOISE."""
    if 'tensorflow' in sys.modules:
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import tensorflow  # noqa: F401  pylint: disable=import-outside-toplevel,unused-import
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            for line in captured.read().decode(errors='replace').splitlines(True):
                if not any(noise in line for noise in _IMPORT_NOISE):
                    sys.stderr.write(line)


_import_tensorflow_quietly()

# pylint: disable=wrong-import-position
from art.constants import (ALPHA, BETA, COLOR_CHANNELS, CONTENT_LAYERS, IMAGE_HEIGHT,
                           IMAGE_WIDTH, ITERATIONS, LEARNING_RATE, MEAN_VALUES,
                           NOISE_RATIO, OUTPUT_DIR, STYLE_LAYERS, VGG_MODEL)
from art.images import ImageError, generate_noise_image, load_image, save_image
from art.losses import (content_loss_func, content_layer_loss, gram_matrix,
                        style_layer_loss, style_loss_func, total_loss_func)
from art.stylize import OPTIMIZERS, Iterate, NonFiniteLoss, Painting, stylize
from art.synthetic import synthetic_weights, write_synthetic_vgg19
from art.vgg import load_vgg_model
from art.weights import VGGWeights, WeightsError, read_vgg19
