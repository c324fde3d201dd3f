"""grid.png: a batch's paintings laid out by what its lines sweep, labelled, like the paper's
figures (Gatys et al., Figure 3: style layers down, content/style ratio across).

A line that sweeps gets a block: its first swept flag's values across, the
combinations of the others down. Lines that sweep nothing share a last block,
their names as labels. A job that did not end with a painting shows its status.
"""
import collections
import os

from PIL import Image, ImageDraw, ImageFont

from art.io.files import read_rgb, write_atomic
from art.io.video import first_frame
from art.io.sheets import GAP, LABEL_HEIGHT, THUMB_HEIGHT, thumbnail_width

COLUMNS = 4
BACKGROUND, INK, EMPTY = (255, 255, 255), (0, 0, 0), (220, 220, 220)

# A block of the grid: its title, the column and row labels, and the Entry of
# each (row, column) cell.
Block = collections.namedtuple('Block', 'title columns rows cells')


def value_text(value):
    """A swept value as a file name and a label show it."""
    if isinstance(value, list):
        return '+'.join(value_text(item) for item in value)
    if isinstance(value, float):
        return '%g' % value
    return str(value).replace(os.sep, '_').replace(' ', '_')


def label(pairs):
    """'flag=value, ...' of (flag, value) pairs."""
    return ', '.join('%s=%s' % (key, value_text(value)) for key, value in pairs)


def blocks(entries):
    """The grid's Blocks, in the order of the JOBS lines."""
    lines, singles = collections.OrderedDict(), []
    for entry in entries:
        if entry.swept:
            lines.setdefault(entry.line, []).append(entry)
        else:
            singles.append(entry)
    found = []
    for line, group in lines.items():
        columns, rows, cells = [], [], {}
        for entry in group:
            across, down = label(entry.swept[:1]), label(entry.swept[1:])
            for labels, text in ((columns, across), (rows, down)):
                if text not in labels:
                    labels.append(text)
            cells[rows.index(down), columns.index(across)] = entry
        title = '%s (line %d)' % (group[0].name.split('-')[0], line)
        found.append(Block(title, columns, rows, cells))
    if singles:
        found.append(Block('jobs', [''] * min(COLUMNS, len(singles)),
                           [''] * -(-len(singles) // COLUMNS),
                           {divmod(index, COLUMNS): entry for index, entry in enumerate(singles)}))
    return found


def cell_width(entries):
    """Thumbnail width: the first job's aspect at THUMB_HEIGHT."""
    return thumbnail_width(*entries[0].job.size)


def picture(entry, outcome, width):
    """The cell of a job: its painting (a clip's first frame), or its status on grey."""
    if outcome and outcome.status in ('done', 'skipped') and os.path.exists(entry.job.output):
        return Image.fromarray(painted(entry.job)()).resize((width, THUMB_HEIGHT),
                                                            Image.LANCZOS)
    empty = Image.new('RGB', (width, THUMB_HEIGHT), EMPTY)
    ImageDraw.Draw(empty).text((4, 4), outcome.status if outcome else 'not painted', fill=INK,
                               font=ImageFont.load_default())
    return empty


def painted(job):
    """A function giving a Job's painting as uint8 RGB pixels (a clip's first frame), read
    from its output when called."""
    return lambda: first_frame(job.output) if job.is_clip else read_rgb(job.output)


def block_height(block):
    return LABEL_HEIGHT * 2 + len(block.rows) * (LABEL_HEIGHT + THUMB_HEIGHT + GAP)


def write_grid(path, entries, outcomes):
    """Draw grid.png of the batch's entries; False when there is nothing to draw."""
    if not entries:
        return False
    width, found = cell_width(entries), blocks(entries)
    canvas = Image.new('RGB', (
        GAP + max(len(block.columns) for block in found) * (width + GAP),
        GAP + sum(block_height(block) + GAP for block in found)), BACKGROUND)
    draw, font = ImageDraw.Draw(canvas), ImageFont.load_default()
    top = GAP
    for block in found:
        draw.text((GAP, top), block.title, fill=INK, font=font)
        for column, text in enumerate(block.columns):
            draw.text((GAP + column * (width + GAP), top + LABEL_HEIGHT), text, fill=INK,
                      font=font)
        top += 2 * LABEL_HEIGHT
        for row, text in enumerate(block.rows):
            draw.text((GAP, top), text, fill=INK, font=font)
            top += LABEL_HEIGHT
            for column in range(len(block.columns)):
                entry = block.cells.get((row, column))
                if entry is not None:
                    canvas.paste(picture(entry, outcomes.get(entry.name), width),
                                 (GAP + column * (width + GAP), top))
                    if not entry.swept:
                        draw.text((GAP + column * (width + GAP), top + THUMB_HEIGHT - 14),
                                  entry.name, fill=INK, font=font)
            top += THUMB_HEIGHT + GAP
        top += GAP

    def write(partial):
        canvas.save(partial)

    write_atomic(path, write)
    return True

