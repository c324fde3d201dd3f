#!/usr/bin/env python
"""Paint a content image in the style of another: `python run_art.py --help`.

log0's art.py as a command: VGG-19 in tf.compat.v1 graph mode, art.py's
constants as defaults, scipy's L-BFGS (or art.py's Adam) as the optimizer.
"""
import sys

from art.app.cli import command

if __name__ == '__main__':
    sys.exit(command())
