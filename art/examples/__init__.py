"""The project's own example pair, drawn by code: nothing is downloaded.

`content.png` is a harbour at dusk (flat shapes and edges, the structure the
content loss keeps); `style.png` is a field of short, thick, swirling brush
strokes in a few strong colours (the texture the style loss copies). Both
are committed beside this file; `python -m art.examples` draws them again.
`figure3.jsonl` is the batch of the paper's Figure 3 over them (run_art.py --batch).
"""
import math
import os

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

FOLDER = os.path.dirname(os.path.abspath(__file__))
CONTENT = os.path.join(FOLDER, 'content.png')
STYLE = os.path.join(FOLDER, 'style.png')
FIGURE3 = os.path.join(FOLDER, 'figure3.jsonl')
SIZE = (400, 300)


def _vertical_gradient(size, top, bottom):
    """An RGB image fading from colour `top` to colour `bottom`."""
    width, height = size
    ramp = np.linspace(0.0, 1.0, height)[:, None, None]
    pixels = (1 - ramp) * np.array(top) + ramp * np.array(bottom)
    return Image.fromarray(np.repeat(pixels, width, axis=1).astype(np.uint8))


def draw_content(size=SIZE):
    """A harbour at dusk: sky, sun, hills, sea, houses and a lighthouse."""
    width, height = size
    horizon = int(height * 0.62)
    image = _vertical_gradient((width, horizon), (28, 40, 96), (250, 160, 90))
    canvas = Image.new('RGB', size)
    canvas.paste(image, (0, 0))
    canvas.paste(_vertical_gradient((width, height - horizon), (40, 70, 120), (10, 25, 50)),
                 (0, horizon))
    draw = ImageDraw.Draw(canvas)
    sun = (int(width * 0.7), int(horizon * 0.78), int(height * 0.09))
    draw.ellipse([sun[0] - sun[2], sun[1] - sun[2], sun[0] + sun[2], sun[1] + sun[2]],
                 fill=(255, 220, 120))
    hills = [(0, horizon)] + [(x, horizon - int(height * (0.10 + 0.07 * math.sin(x / 37.0))))
                              for x in range(0, width + 1, 10)] + [(width, horizon)]
    draw.polygon(hills, fill=(70, 50, 90))
    for row in range(6):
        y = horizon + 8 + row * 14
        draw.line([(sun[0] - 40 + row * 5, y), (sun[0] + 40 - row * 5, y)],
                  fill=(240, 180, 100), width=3)
    for index, x in enumerate(range(20, int(width * 0.5), 38)):
        top = horizon - 30 - (index % 3) * 8
        colour = ((200, 80, 60), (230, 200, 150), (90, 140, 170))[index % 3]
        draw.rectangle([x, top, x + 30, horizon], fill=colour)
        draw.polygon([(x - 3, top), (x + 15, top - 16), (x + 33, top)], fill=(110, 40, 40))
        draw.rectangle([x + 10, top + 8, x + 18, top + 16], fill=(255, 230, 140))
    tower = int(width * 0.88)
    draw.polygon([(tower - 10, horizon), (tower - 6, horizon - 80), (tower + 6, horizon - 80),
                  (tower + 10, horizon)], fill=(235, 235, 225))
    draw.rectangle([tower - 8, horizon - 92, tower + 8, horizon - 80], fill=(255, 240, 150))
    return canvas


def draw_style(size=SIZE, strokes=6000, seed=0):
    """Short thick strokes that follow a field of swirls, in five strong colours."""
    width, height = size
    rng = np.random.RandomState(seed)
    palette = np.array([(18, 40, 120), (40, 90, 180), (240, 200, 60), (245, 240, 210),
                        (30, 120, 130)])
    canvas = Image.new('RGB', size, (20, 30, 80))
    draw = ImageDraw.Draw(canvas)
    centres = rng.uniform(0, 1, (5, 2)) * (width, height)
    for _ in range(strokes):
        x, y = rng.uniform(0, width), rng.uniform(0, height)
        # Strokes circle the nearest centre, the way paint swirls round a star.
        dx, dy = x - centres[:, 0], y - centres[:, 1]
        nearest = int(np.argmin(dx * dx + dy * dy))
        angle = math.atan2(dy[nearest], dx[nearest]) + math.pi / 2 + rng.normal(0, 0.2)
        distance = math.hypot(dx[nearest], dy[nearest])
        shade = int(distance / 25 + rng.randint(0, 2)) % len(palette)
        length = rng.uniform(8, 18)
        end = (x + length * math.cos(angle), y + length * math.sin(angle))
        colour = tuple(int(c) for c in np.clip(palette[shade] + rng.normal(0, 12, 3), 0, 255))
        draw.line([(x, y), end], fill=colour, width=int(rng.randint(3, 7)))
    return canvas


def texture(height, width, seed):
    """Smooth random RGB texture (float32 levels): structure an optical flow can follow at
    every pixel."""
    noise = np.random.default_rng(seed).uniform(0, 255, (height, width, 3)).astype(np.uint8)
    return np.asarray(Image.fromarray(noise).filter(ImageFilter.GaussianBlur(1.5)), np.float32)


def moving_square(frames, size=(96, 128), square=32, step=(3, 2)):
    """A generated clip: a textured square of side `square` moving by `step` (dx, dy) per
    frame over a textured background of `size` (height, width). (the frames, float32
    levels; each frame's square as (top, left))."""
    background, patch = texture(*size, seed=1), texture(square, square, seed=2)
    pictures, places = [], []
    for index in range(frames):
        top, left = 20 + step[1] * index, 10 + step[0] * index
        frame = background.copy()
        frame[top:top + square, left:left + square] = patch
        pictures.append(frame)
        places.append((top, left))
    return pictures, places


def main():
    """Draw both examples over the committed files."""
    draw_content().save(CONTENT, optimize=True)
    draw_style().save(STYLE, optimize=True)
    print('wrote %s and %s' % (CONTENT, STYLE))

