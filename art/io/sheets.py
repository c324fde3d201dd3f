"""Pictures of a run: a contact sheet of the images and a curve of the losses.

The sheet is drawn with Pillow. The curve needs matplotlib, an optional extra
(`pip install -e '.[plots]'`); without it the curve is skipped and the run
says so.
"""
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from art.io.files import save_rgb, write_atomic

THUMB_HEIGHT = 160
LABEL_HEIGHT = 18
GAP = 8
COLUMNS = 4


def thumbnail_width(height, width):
    """The width of a thumbnail of a (height, width) picture at THUMB_HEIGHT, its aspect kept."""
    return max(1, round(width * THUMB_HEIGHT / height))


def sheet_size(shapes, columns=COLUMNS):
    """(width, height) of the sheet for images of these (height, width) shapes."""
    widths = [thumbnail_width(h, w) for h, w in shapes]
    rows = [widths[i:i + columns] for i in range(0, len(widths), columns)]
    width = GAP + max(sum(row) + GAP * len(row) for row in rows)
    return width, GAP + len(rows) * (THUMB_HEIGHT + LABEL_HEIGHT + GAP)


def contact_sheet(path, items, columns=COLUMNS):
    """Write labelled thumbnails of (label, uint8 RGB) items, `columns` a row."""
    width, height = sheet_size([pixels.shape[:2] for _, pixels in items], columns)
    sheet = Image.new('RGB', (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default()
    for index, (label, pixels) in enumerate(items):
        if index % columns == 0:
            x = GAP
            y = GAP + (index // columns) * (THUMB_HEIGHT + LABEL_HEIGHT + GAP)
        h, w = pixels.shape[:2]
        thumb = Image.fromarray(pixels).resize((thumbnail_width(h, w), THUMB_HEIGHT),
                                               Image.LANCZOS)
        sheet.paste(thumb, (x, y))
        # A frame, so that a white picture (a mask) shows against the white sheet.
        draw.rectangle((x - 1, y - 1, x + thumb.width, y + THUMB_HEIGHT), outline=(190, 190, 190))
        draw.text((x, y + THUMB_HEIGHT + 3), label, fill=(0, 0, 0), font=font)
        x += thumb.width + GAP
    save_rgb(path, np.asarray(sheet))


def loss_curve(path, evaluations, losses):
    """Write the losses ({name: values}: each group's and the total) against evaluations on
    a log scale, the total first; False without matplotlib."""
    try:
        import matplotlib  # pylint: disable=import-outside-toplevel
    except ImportError:
        return False
    matplotlib.use('Agg')
    from matplotlib import pyplot  # pylint: disable=import-outside-toplevel
    figure, axes = pyplot.subplots(figsize=(6.4, 4.0), dpi=100)
    for label in sorted(losses, key=lambda name: name != 'total'):
        values = losses[label]
        axes.plot(evaluations, np.maximum(values, np.finfo(np.float32).tiny), label=label)
    axes.set_yscale('log')
    axes.set_xlabel('loss + gradient evaluations')
    axes.set_ylabel('loss')
    axes.legend()
    axes.grid(True, which='major', alpha=0.3)
    figure.tight_layout()
    write_atomic(path, lambda partial: figure.savefig(partial, format='png'))
    pyplot.close(figure)
    return True
