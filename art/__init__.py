"""art: log0's art.py (Gatys, Ecker & Bethge, arXiv 1508.06576) as a package.

The names art.py made public are here with art.py's meaning:
`load_vgg_model`, `content_loss_func`, `style_loss_func`,
`generate_noise_image`, `load_image`, `save_image` and its constants.

Two kinds of array, named so everywhere in the project:
- `pixels`: a picture as files hold it, (height, width, 3) uint8 RGB;
- `image`: what the network sees, (1, height, width, 3) float32 with
  MEAN_VALUES subtracted (art.py's `load_image` returns one).
`art.io.images.preprocess` and `art.io.images.to_pixels` convert between them.

`art.paint(content=..., style=..., ...)` paints as run_art.py does, with the same settings
(art.app.settings) and defaults, and returns the picture with its losses and record.
Underneath, a painting is one `Job` (art.app.job): every setting resolved and validated;
`art.verify(record_path)` paints a record again and compares.

Names are imported on first use, so that `import art` (and the command
line's --help and input checks) do not wait for TensorFlow to load.
"""
import importlib

__version__ = '0.2.0'

# public name -> module that defines it
_EXPORTS = {
    'art.constants': ('ALPHA', 'BETA', 'COLOR_CHANNELS', 'CONTENT_LAYERS', 'IMAGE_HEIGHT',
                      'IMAGE_WIDTH', 'ITERATIONS', 'LEARNING_RATE', 'MEAN_VALUES',
                      'NOISE_RATIO', 'OPTIMIZERS', 'OUTPUT_DIR', 'STYLE_LAYERS', 'VGG_MODEL'),
    'art.engine.stylize': ('stylize',),
    'art.io.files': ('ImageError', 'read_rgb', 'save_rgb'),
    'art.io.images': ('generate_noise_image', 'load_image', 'save_image'),
    'art.app.job': ('Job', 'JobError'),
    'art.app.api': ('Painted', 'Step', 'paint'),
    'art.engine.losses': ('capture_content_targets', 'capture_style_targets', 'content_layer_loss',
                   'content_loss', 'content_loss_func', 'gram_matrices', 'gram_matrix',
                   'style_layer_loss', 'style_loss', 'style_loss_func', 'total_loss_func',
                   'total_variation_loss'),
    'art.engine.optimizers': ('Iterate', 'NonFiniteLoss', 'adam', 'lbfgs', 'optimize'),
    'art.engine.painting': ('Painting', 'session_configs'),
    'art.app.record': ('RecordError', 'read_record'),
    'art.network.synthetic': ('synthetic_weights', 'write_synthetic_vgg19'),
    'art.engine.tiling': ('TiledPainting',),
    'art.app.verification': ('VerifyReport', 'replay', 'verify'),
    'art.engine.vgg': ('load_vgg_model',),
    'art.network.weights': ('VGGWeights', 'WeightsError', 'read_vgg19'),
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}
__all__ = sorted(_MODULE_OF)


def __getattr__(name):
    if name not in _MODULE_OF:
        raise AttributeError('module %r has no attribute %r' % (__name__, name))
    value = getattr(importlib.import_module(_MODULE_OF[name]), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
