"""The figures of docs/styling.md and docs/video.md (issue 24), painted on the 8-bit VGG-19
(or another network) and labelled with it: `python bench/figures.py [--out docs/figures] [--weights vgg19-8bit]`.

- regions.png: the contact sheet of a two-region painting (the example harbour, the
  example strokes on the left and the same strokes with their colours turned on the
  right, a mask each);
- color-control.png: one row, content and style, then --color-control none,
  luminance and histogram from the same start;
- video-strip.png: three frames of a generated clip (a textured square moving over a
  texture) painted with the temporal loss (the defaults) and independently
  (--temporal-weight 0 --frame-init mix), each row ending in the change between its
  last two frames (|frame 6 - frame 5|, times 4): where the background stands still,
  any change is flicker.

They are painted with art.py's objective (`--objective art.py`: content 5, style 100) from
art.py's mix, short runs at a small size: they show where style lands and how colour is
controlled.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from art import examples  # noqa: E402  pylint: disable=wrong-import-position
from art.io import files, images, sheets  # noqa: E402  pylint: disable=wrong-import-position

# The network the figures are painted on, and the words each label ends with.
NETWORK = {'weights': 'vgg19-8bit', 'label': ', 8-bit VGG-19'}


def paint(folder, name, *arguments, width=240, iterations=60):
    """Run run_art.py into `folder`/name.png; the painting's pixels."""
    output = os.path.join(folder, name + '.png')
    subprocess.run([sys.executable, os.path.join(ROOT, 'run_art.py'), '--weights',
                    NETWORK['weights'], '--objective', 'art.py', '--width', str(width),
                    '--iterations', str(iterations), '--seed', '1',
                    '--checkpoint-every', '0', '--output', output] + list(arguments),
                   check=True, stdout=subprocess.DEVNULL)
    return files.read_rgb(output)


def inputs(folder):
    """The example pair, the style with its colours turned (RGB -> BRG), and left/right
    masks at the content's size: their paths."""
    content = files.read_rgb(examples.CONTENT)
    height, width = content.shape[:2]
    turned = files.read_rgb(examples.STYLE)[..., [2, 0, 1]]
    left = np.zeros((height, width), np.uint8)
    left[:, :width // 2] = 255
    paths = {name: os.path.join(folder, name + '.png') for name in ('turned', 'left', 'right')}
    for name, pixels in (('turned', turned), ('left', left), ('right', 255 - left)):
        Image.fromarray(pixels).save(paths[name])
    return paths


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out', default=os.path.join(ROOT, 'docs', 'figures'))
    parser.add_argument('--weights', default=NETWORK['weights'],
                        help='the network (default: %(default)s; synthetic: random weights)')
    options = parser.parse_args()
    out = options.out
    NETWORK.update(weights=options.weights, label=', ' + {
        'vgg19-8bit': '8-bit VGG-19', 'synthetic': 'synthetic weights'}.get(
            options.weights, os.path.basename(options.weights)))
    os.makedirs(out, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        paths = inputs(folder)
        regions = paint(folder, 'regions', '--style', examples.STYLE, paths['turned'],
                        '--style-masks', paths['left'], paths['right'])
        height, width = regions.shape[:2]

        def shown(path):
            return images.resize_rgb(files.read_rgb(path), height, width)

        sheets.contact_sheet(os.path.join(out, 'regions.png'), [
            ('content', shown(examples.CONTENT)), ('style 1', shown(examples.STYLE)),
            ('style 1 mask', shown(paths['left'])), ('style 2', shown(paths['turned'])),
            ('style 2 mask', shown(paths['right'])), ('result' + NETWORK['label'], regions)],
            columns=3)
        row = [('content', shown(examples.CONTENT)), ('style', shown(paths['turned']))]
        for control in ('none', 'luminance', 'histogram'):
            row.append((control + NETWORK['label'], paint(folder, control, '--style', paths['turned'],
                                                   '--color-control', control)))
        sheets.contact_sheet(os.path.join(out, 'color-control.png'), row, columns=5)
        video_strip(folder, os.path.join(out, 'video-strip.png'))
    print('wrote regions.png, color-control.png and video-strip.png in %s' % out)


def video_strip(folder, path, shown=(3, 4, 5)):
    """video-strip.png: frames `shown` (0-based) of a generated clip in both modes."""
    from art.io import video  # pylint: disable=import-outside-toplevel
    clip = os.path.join(folder, 'clip')
    os.makedirs(clip)
    for index, frame in enumerate(examples.moving_square(shown[-1] + 1)[0]):
        video.write_frame(clip, index, frame.astype(np.uint8))
    items = []
    for mode, flags in (('temporal loss', []),
                        ('independent', ['--temporal-weight', '0', '--frame-init', 'mix'])):
        frames = os.path.join(folder, mode.replace(' ', '-'))
        subprocess.run([sys.executable, os.path.join(ROOT, 'run_art.py'), '--weights',
                        NETWORK['weights'], '--content', clip, '--style', examples.STYLE,
                        '--iterations', '60', '--frame-iterations', '30', '--output', frames]
                       + flags, check=True, stdout=subprocess.DEVNULL)
        painted = [files.read_rgb(video.frame_path(frames, index)) for index in shown]
        items += [('%s, frame %d%s' % (mode, index + 1, NETWORK['label']), pixels)
                  for index, pixels in zip(shown, painted)]
        change = np.abs(painted[-1].astype(int) - painted[-2].astype(int)) * 4
        items.append(('%s: change x4' % mode, np.clip(change, 0, 255).astype(np.uint8)))
    sheets.contact_sheet(path, items, columns=len(shown) + 1)


if __name__ == '__main__':
    main()
