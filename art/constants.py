"""art.py's constants, with art.py's names and values.

These are the defaults everywhere in the package; the command line and the
keyword arguments of the engine override them.
"""
import numpy as np

# Output folder for the images (art.py wrote output/<iteration>.png).
OUTPUT_DIR = 'output/'
# Image dimensions constants.
IMAGE_WIDTH = 800
IMAGE_HEIGHT = 600
COLOR_CHANNELS = 3

# Weight of the noise when it is mixed with the content image for the start.
NOISE_RATIO = 0.6
# art.py ran 5000 Adam steps.
ITERATIONS = 5000
# Emphasis on the content loss (the paper's alpha, called BETA in art.py).
BETA = 5
# Emphasis on the style loss (the paper's beta, called ALPHA in art.py).
ALPHA = 100
# art.py's Adam learning rate.
LEARNING_RATE = 2.0

VGG_MODEL = 'imagenet-vgg-verydeep-19.mat'
# The per-channel (RGB) mean of the images VGG was trained on; the network
# expects it subtracted.
MEAN_VALUES = np.array([123.68, 116.779, 103.939]).reshape((1, 1, 1, 3))

# (layer, weight) pairs of the loss terms, as art.py chose them.
CONTENT_LAYERS = (('conv4_2', 1.0),)
STYLE_LAYERS = (
    ('conv1_1', 0.5),
    ('conv2_1', 1.0),
    ('conv3_1', 1.5),
    ('conv4_1', 3.0),
    ('conv5_1', 4.0),
)

# The objectives: 'relative' (this project's default: each loss term relative to its
# target, art.engine.terms.Objective) or art.py's, its normalisations and BETA, ALPHA.
ART_PY = 'art.py'
OBJECTIVES = ('relative', ART_PY)

# The optimizers a painting can run: scipy's L-BFGS-B (this project's
# default) and art.py's Adam.
OPTIMIZERS = ('lbfgs', 'adam')
# The style statistics (--style-loss): art.py's Gram matrices, the features' mean and
# covariance, or each filter's histogram; each with the float32 copies of a style layer's
# features its statistic holds beyond the network's, forward and backward (the memory
# estimate's). One not built into art.engine.terms is the term of
# art/engine/statistics/NAME.py (its `STYLE_TERM`; a '-' in NAME is a '_' there).
STYLE_LOSSES = {'gram': 0, 'mean-covariance': 4, 'histogram': 8}
# --min-progress compares the total loss with the one this many iterations before.
FLAT_WINDOW = 50
# art.py's Adam took 5000 steps; L-BFGS needs far fewer (bench/RESULTS.md).
LBFGS_ITERATIONS = 1000
# Correction pairs L-BFGS keeps (scipy's maxcor). bench/RESULTS.md: after 300
# evaluations at 256x192, 20 pairs reached a 10% lower loss than 10 and 4% lower
# than 50, in the same wall time.
LBFGS_HISTORY = 20
# L-BFGS-B and its objective hold 2m + 16 float64 copies of the image with m
# pairs (measured, bench/RESULTS.md): at 12 megapixels 15 GiB with 20 pairs. Where
# the default history's state would pass LBFGS_STATE_LIMIT bytes (above about 5
# megapixels), a run keeps fewer pairs, at least MIN_LBFGS_HISTORY, and its
# record says how many.
LBFGS_STATE_LIMIT = 6 * 2**30
MIN_LBFGS_HISTORY = 5
# The arithmetic of the bulk of a painting: float32 (art.py's, the default),
# bfloat16 (oneDNN's mixed precision, finished in float32) or auto (bfloat16
# where the CPU has it natively).
PRECISIONS = ('float32', 'bfloat16', 'auto')
# Every painting ends in float32: its final losses are art.py's numbers, against
# targets captured in float32, whatever the bulk ran in.
FINISH_PRECISION = 'float32'
# Between a bfloat16 bulk and the float32 finish of L-BFGS: float32's forward
# pass and loss, the convolutions' backward pass in bfloat16 (art.engine.backward).
MIXED_PRECISION = 'mixed'
# A clip's frames after its first start from the previous painting warped along the
# optical flow, close to their answer: unless told, they run FRAME_ITERATIONS_SHARE of
# the first frame's iterations. Under art.py's objective the temporal term (Ruder et al.'s
# short-term loss) weighs TEMPORAL_WEIGHT. Both chosen by measurement on a synthetic
# network (bench/RESULTS.md, "Video"): the largest weight, and the fewest iterations, at
# which later frames keep the first frame's style loss.
FRAME_ITERATIONS_SHARE = 0.5
TEMPORAL_WEIGHT = 1e3

# The weights each objective gives where the user gives none: the relative objective's
# chosen on the real VGG-19 (bench/quality.py; bench/RESULTS.md, "Paintings that keep the
# photo"), art.py's its BETA and ALPHA (and the temporal weight chosen for its scale).
OBJECTIVE_WEIGHTS = {
    'relative': {'content_weight': 1.0, 'style_weight': 3.0, 'temporal_weight': 10.0},
    ART_PY: {'content_weight': BETA, 'style_weight': ALPHA, 'temporal_weight': TEMPORAL_WEIGHT},
}
# Where a later frame starts: the previous painting warped (the mix where the flow is
# not trusted), or art.py's noise/content mix.
FRAME_INITS = ('warped', 'mix')
