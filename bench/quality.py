"""How well paintings keep the photo and take the style, measured on the real (8-bit) VGG-19.

    python bench/quality.py [--sizes 400x300 800x600] [--pairs PHOTO ...] [--iterations N]
                            [--setting NAME=FLAGS ...] [--clip] [--out bench/quality]

Each photo/painting pair of bench/pictures.py is painted by run_art.py at each size with
each setting (the default command unless --setting names others), and each painting
measured:

- structure kept: the correlation of the Sobel gradient magnitudes of the photo's and the
  painting's luminance, both 256 pixels wide, blurred by a Gaussian of sigma 4 first (the
  brush strokes are not structure);
- style distance: the mean over conv1_1 ... conv5_1 of |G(painting) - G(style)| / |G(style)|,
  G the Gram matrix of the relu features divided by the positions, the style image at the
  painting's size (as run_art.py takes it);
- the same distance between the luminances of painting and style (gray pictures), which a
  painting in the photo's colours (--color-control) is fairly judged by;
- content distance: |F(painting) - F(photo)| / |F(photo)| at conv4_2;
- seconds: the whole run_art.py run, as a user waits for it;
- with --clip, the camera panning over each photo (six frames) is painted instead, the last
  frame measured, and the mean temporal error of the later frames added (levels).

A setting's flags may name `{style}`, the pair's painting, `{style2}`, the next pair's, and `{left}` and `{right}`,
masks of the painting's halves (for --style-masks); the table then adds the style distance
to the second style, and where the flags name masks each distance is of the half the style
was given (the left against the pair's painting, the right against the second).

It writes a Markdown table (quality.md), each painting (PHOTO-SIZE-SETTING.png) and the
pictures side by side (quality-SIZE.png: a row per pair: photo, painting, then each
setting's result) into --out.
"""
import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time

import numpy as np
from PIL import Image
from scipy import ndimage

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from art.engine.tf1 import tf, tf1  # noqa: E402  pylint: disable=wrong-import-position
from art.engine.vgg import initialize, load_vgg_model  # noqa: E402  pylint: disable=wrong-import-position
from art.io import colors, files, images  # noqa: E402  pylint: disable=wrong-import-position
from art.network.cache import cache_dir, read_vgg19_cached  # noqa: E402  pylint: disable=wrong-import-position
from art.network.layers import convs_up_to  # noqa: E402  pylint: disable=wrong-import-position
from art.network.sources import quantized_path  # noqa: E402  pylint: disable=wrong-import-position
import pictures  # noqa: E402  pylint: disable=wrong-import-position

STYLE_LAYERS = ('conv1_1', 'conv2_1', 'conv3_1', 'conv4_1', 'conv5_1')
CONTENT_LAYER = 'conv4_2'
# (name, run_art.py flags): the default command first.
SETTINGS = (('default', ()),)


def edge_correlation(photo, painting, width=256, sigma=4.0):
    """Correlation of the Sobel magnitudes of the blurred luminances, `width` pixels wide."""
    height = round(width * photo.shape[0] / photo.shape[1])

    def edges(pixels):
        plane = colors.luminance(images.resize_rgb(pixels, height, width))
        blurred = ndimage.gaussian_filter(plane, sigma)
        return np.hypot(ndimage.sobel(blurred, 0), ndimage.sobel(blurred, 1)).ravel()
    return float(np.corrcoef(edges(photo), edges(painting))[0, 1])


class Features:
    """The real network's relu features of pictures, one graph per size."""

    def __init__(self):
        self.network = read_vgg19_cached(quantized_path(cache_dir()), convs_up_to('conv5_1'))
        self.graphs = {}

    def of(self, pixels):
        """{layer: features (positions, filters)} of uint8 RGB `pixels`."""
        height, width = pixels.shape[:2]
        if (height, width) not in self.graphs:
            graph = tf.Graph()
            with graph.as_default():
                model = load_vgg_model(self.network, height, width, last_layer='conv5_1')
                session = tf1.Session(graph=graph)
                initialize(session, model)
            self.graphs[height, width] = (model, session)
        model, session = self.graphs[height, width]
        session.run(model['assign_input'], {model['image']: images.preprocess(pixels, height, width)})
        found = session.run({name: model[name] for name in STYLE_LAYERS + (CONTENT_LAYER,)})
        return {name: value.reshape(-1, value.shape[-1]).astype(np.float64)
                for name, value in found.items()}


def gram(features):
    """G / M of (positions, filters) features."""
    return features.T @ features / len(features)


def style_distance(features, painting, style):
    """The mean over the style layers of |G(painting) - G(style)| / |G(style)|, the style
    image at the painting's size."""
    own = features.of(painting)
    theirs = features.of(images.resize_rgb(style, *painting.shape[:2]))
    return float(np.mean([np.linalg.norm(gram(own[layer]) - gram(theirs[layer]))
                          / np.linalg.norm(gram(theirs[layer])) for layer in STYLE_LAYERS]))


def gray(pixels):
    """The luminance of uint8 RGB `pixels` as a gray uint8 RGB picture."""
    return np.clip(np.round(colors.gray(colors.luminance(pixels))), 0, 255).astype(np.uint8)


def measure(features, photo, style, painting, second=None, halves=False):
    """(structure kept, style distance, its luminance's, content distance, distance to the
    `second` style or None) of `painting`; with `halves`, each style distance is of a half:
    the left's to `style`, the right's to `second`."""
    height, width = painting.shape[:2]
    left, right = ((painting[:, :width // 2], painting[:, width // 2:]) if halves
                   else (painting, painting))
    own = features.of(painting)
    content = features.of(images.resize_rgb(photo, height, width))
    content_distance = (np.linalg.norm(own[CONTENT_LAYER] - content[CONTENT_LAYER])
                        / np.linalg.norm(content[CONTENT_LAYER]))
    return (edge_correlation(photo, painting), style_distance(features, left, style),
            style_distance(features, gray(left), gray(style)), float(content_distance),
            None if second is None else style_distance(features, right, second))


def trajectory_rows(features, label, photo, style, checkpoints, kept, distance):
    """Markdown rows measuring each checkpoint, and whether its structure kept and style
    distance are within 5% of the finished painting's (`kept`, `distance`)."""
    rows = []
    for iteration, evaluations, seconds, pixels in checkpoints:
        at_kept, at_distance = measure(features, photo, style, pixels)[:2]
        close = abs(at_kept - kept) <= 0.05 * kept and abs(at_distance - distance) <= 0.05 * distance
        rows.append('| %s | %d | %d | %.0f | %.2f | %.3f | %s |' % (
            label, iteration, evaluations, seconds, at_kept, at_distance,
            'yes' if close else 'no'))
    return rows


def half_masks(folder, height, width):
    """{'left': path, 'right': path} of white-on-black masks of the picture's halves."""
    paths = {}
    for side, columns in (('left', slice(0, width // 2)), ('right', slice(width // 2, width))):
        mask = np.zeros((height, width), np.uint8)
        mask[:, columns] = 255
        paths[side] = os.path.join(folder, side + '-mask.png')
        Image.fromarray(mask).save(paths[side])
    return paths


def paint(folder, name, photo, style, size, flags, second):
    """run_art.py on the pair, `second` the style `{style2}` names: (painting, seconds,
    checkpoints), the checkpoints [(iteration, evaluations, seconds, pixels)] its record lists."""
    height, width = size
    paths = []
    for label, pixels in (('photo', photo), ('style', style), ('style2', second)):
        paths.append(os.path.join(folder, '%s-%s.png' % (name, label)))
        Image.fromarray(pixels).save(paths[-1])
    flags = [flag.format(style=paths[1], style2=paths[2], **half_masks(folder, height, width))
             for flag in flags]
    output = os.path.join(folder, name + '.png')
    command = [sys.executable, os.path.join(ROOT, 'run_art.py'), '--weights', 'vgg19-8bit',
               '--content', paths[0], '--style', paths[1], '--width', str(width),
               '--height', str(height), '--seed', '1', '--output', output, *flags]
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    with open(os.path.join(folder, name + '.json')) as record:
        checkpoints = [(entry['iteration'], entry['evaluations'], entry['seconds'],
                        files.read_rgb(entry['path']))
                       for entry in json.load(record)['checkpoints']]
    return files.read_rgb(output), seconds, checkpoints


def centred(pixels, aspect):
    """The largest centred crop of `pixels` of `aspect` (width / height)."""
    height, width = pixels.shape[:2]
    if width > height * aspect:
        keep = round(height * aspect)
        return pixels[:, (width - keep) // 2:(width - keep) // 2 + keep]
    keep = round(width / aspect)
    return pixels[(height - keep) // 2:(height - keep) // 2 + keep]


def sheet(rows, cell=200):
    """The pictures of `rows` (lists of uint8 arrays) side by side, `cell` pixels high."""
    scaled = [[Image.fromarray(p).resize((round(cell * p.shape[1] / p.shape[0]), cell))
               for p in row] for row in rows]
    width = max(sum(im.width for im in row) + 4 * len(row) for row in scaled)
    canvas = Image.new('RGB', (width, len(rows) * (cell + 4)), 'white')
    for top, row in enumerate(scaled):
        left = 0
        for im in row:
            canvas.paste(im, (left, top * (cell + 4)))
            left += im.width + 4
    return canvas


def panning(photo, size, frames, step):
    """`frames` crops of `photo` of `size` (height, width), the window moving `step` pixels
    right per frame: a camera panning over a still scene."""
    height, width = size
    wide = images.resize_rgb(centred(photo, (width + step * frames) / height), height,
                              width + step * frames)
    return [wide[:, step * index:step * index + width] for index in range(frames)]


def paint_clip(folder, photo, style, size, flags, frames=6, step=4):
    """run_art.py on a panning clip of the photo: (last frame, its structure photo, mean
    temporal error of the later frames in levels, seconds)."""
    clip = os.path.join(folder, 'clip')
    os.makedirs(clip)
    shots = panning(photo, size, frames, step)
    for index, shot in enumerate(shots, 1):
        Image.fromarray(shot).save(os.path.join(clip, 'frame%d.png' % index))
    style_path = os.path.join(folder, 'style.png')
    Image.fromarray(style).save(style_path)
    output = os.path.join(folder, 'painted')
    start = time.perf_counter()
    subprocess.run([sys.executable, os.path.join(ROOT, 'run_art.py'), '--weights', 'vgg19-8bit',
                    '--content', clip, '--style', style_path, '--width', str(size[1]),
                    '--height', str(size[0]), '--output', output, *flags],
                   check=True, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    with open(output + '.json') as record:
        errors = [frame['temporal_error'] for frame in json.load(record)['frames'][1:]]
    last = sorted(os.listdir(output))[-1]
    return (files.read_rgb(os.path.join(output, last)), shots[-1],
            float(np.mean(errors)), seconds)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--sizes', nargs='+', default=['400x300', '800x600'])
    parser.add_argument('--pairs', nargs='+', metavar='PHOTO',
                        default=[photo for photo, _ in pictures.PAIRS],
                        help='the pairs to paint, by their photo (default: all)')
    parser.add_argument('--iterations', type=int, default=None,
                        help="each run's --iterations (default: run_art.py's)")
    parser.add_argument('--setting', action='append', metavar='NAME=FLAGS',
                        help="a setting to compare, e.g. 'strong=--style-weight 3' "
                             '(default: the default command only)')
    parser.add_argument('--clip', action='store_true',
                        help='paint a clip instead: the camera panning over each photo, six '
                             'frames; the table adds the mean temporal error (levels)')
    parser.add_argument('--trajectory', action='store_true',
                        help="measure each painting's checkpoints too (every 100 iterations "
                             'unless the flags say otherwise): trajectory.md')
    parser.add_argument('--out', default=os.path.join(ROOT, 'bench', 'quality'))
    arguments = parser.parse_args(argv)
    settings = [(name, tuple(shlex.split(flags))) for name, _, flags in
                (setting.partition('=') for setting in arguments.setting)] \
        if arguments.setting else list(SETTINGS)
    os.makedirs(arguments.out, exist_ok=True)
    features = Features()
    second_style = any('{style2}' in flag for _, flags in settings for flag in flags)
    lines = ['| pair | size | setting | structure kept | style distance | luminance style '
             'distance | content distance '
             '| seconds |' + (' temporal error |' if arguments.clip else '')
             + (' second style distance |' if second_style else ''),
             '|---|---|---|---|---|---|---|---|' + ('---|' if arguments.clip else '')
             + ('---|' if second_style else '')]
    trajectory = ['| pair | size | setting | iteration | evaluations | seconds | structure kept '
                  '| style distance | within 5% of the end |', '|---|---|---|---|---|---|---|---|---|']
    for size_text in arguments.sizes:
        width, height = (int(side) for side in size_text.split('x'))
        rows = []
        for number, (photo_name, style_name) in enumerate(pictures.PAIRS):
            if photo_name not in arguments.pairs:
                continue
            photo, style = pictures.picture(photo_name), pictures.picture(style_name)
            second = pictures.picture(pictures.PAIRS[(number + 1) % len(pictures.PAIRS)][1])
            photo = images.resize_rgb(centred(photo, width / height), height, width)
            row = [photo, images.resize_rgb(style, height, round(height * style.shape[1]
                                                                  / style.shape[0]))]
            for name, flags in settings:
                if arguments.iterations:
                    flags += ('--iterations', str(arguments.iterations))
                with tempfile.TemporaryDirectory() as folder:
                    if arguments.clip:
                        painting, shot, flicker, seconds = paint_clip(
                            folder, photo, style, (height, width), flags)
                    else:
                        painting, seconds, checkpoints = paint(
                            folder, 'painting', photo, style, (height, width), flags, second)
                        shot, flicker = photo, None
                Image.fromarray(painting).save(os.path.join(arguments.out, '%s-%s-%s.png' % (
                    photo_name, size_text, name)))
                named = ' '.join(flags)
                kept, distance, luminance, content, to_second = measure(
                    features, shot, style, painting, second if '{style2}' in named else None,
                    halves='{left}' in named)
                lines.append('| %s / %s | %s | %s | %.2f | %.3f | %.3f | %.3f | %.0f |%s%s' % (
                    photo_name, style_name, size_text, name, kept, distance, luminance, content,
                    seconds,
                    '' if flicker is None else ' %.2f |' % flicker,
                    '' if not second_style else
                    ' - |' if to_second is None else ' %.3f |' % to_second))
                print(lines[-1], flush=True)
                if arguments.trajectory and not arguments.clip:
                    trajectory += trajectory_rows(
                        features, '%s / %s | %s | %s' % (photo_name, style_name, size_text, name),
                        photo, style, checkpoints, kept, distance)
                    print('\n'.join(trajectory[-len(checkpoints):]), flush=True)
                row.append(painting)
            rows.append(row)
        sheet(rows).save(os.path.join(arguments.out, 'quality-%s.png' % size_text))
    with open(os.path.join(arguments.out, 'quality.md'), 'w') as table:
        table.write('\n'.join(lines) + '\n')
    if arguments.trajectory:
        with open(os.path.join(arguments.out, 'trajectory.md'), 'w') as table:
            table.write('\n'.join(trajectory) + '\n')


if __name__ == '__main__':
    main()
