"""One painting's progress on disk as it goes: the loss log, checkpoints, the record, and at
the end the image, the contact sheet and the loss curve."""
import os
import time

import numpy as np

from art.app.board import jpeg, painting_values
from art.app.record import (group_losses, iterate_losses, loss_names, trajectory_columns,
                            trajectory_row, write_record)
from art.app.errors import EXIT_FAILED, UsageError
from art.io import colors, files, images, sheets



# How the loss log writes a column; a loss, whatever its group, as '%.9g'.
LOG_FORMATS = {'iteration': '%d', 'evaluations': '%d', 'seconds': '%.3f', 'precision': '%s'}


class LossLog:
    """The loss log: a CSV row per iteration, written and flushed as it comes; its columns
    (the trajectory's: the objective's groups) in the line before the first row.

    `tail -f` shows a run's progress; a crash leaves every row written before it.
    """

    def __init__(self, path, weights_note):
        self.path, self.handle, self.columns = path, None, None
        if path:
            try:
                self.handle = open(path, 'w', encoding='utf-8')  # pylint: disable=consider-using-with
            except OSError as error:
                raise files.WriteError(path, files.reason_of(error), 'loss log') from None
            self._write('# art loss log; weights: %s\n' % weights_note)

    def _write(self, text):
        """Write and flush `text`; WriteError (a full disk) names the log."""
        try:
            self.handle.write(text)
            self.handle.flush()
        except OSError as error:
            raise files.WriteError(self.path, files.reason_of(error), 'loss log') from None

    def add(self, row):
        """Write a trajectory row ({column: value}), after its columns' line if first."""
        if not self.handle:
            return
        if self.columns is None:
            self.columns = tuple(row)
            self._write(','.join(self.columns) + '\n')
        self._write(','.join(LOG_FORMATS.get(column, '%.9g') % value
                             for column, value in row.items()) + '\n')

    def close(self):
        """Close the log; what a full disk kept from it was reported when it was written."""
        if self.handle:
            try:
                self.handle.close()
            except OSError:
                pass


def _thumbnail(pixels):
    """`pixels` at the contact sheet's thumbnail height."""
    return images.resize_rgb(pixels, sheets.THUMB_HEIGHT,
                             sheets.thumbnail_width(*pixels.shape[:2]))


def sheet_inputs(job, pictures):
    """The contact sheet's inputs (label, uint8 pixels), as the network sees them (under
    --color-control), each style followed by its masks."""
    content, styles = colors.controlled(pictures.content, pictures.styles, job.color_control,
                                        job.color_match)
    size, style_size = job.size, job.style_size(job.size)
    masks = list(pictures.masks) or [None] * len(styles)
    image_masks = list(pictures.image_masks) or [None] * len(styles)
    items = [('content' if job.color_control == 'none' else 'content, ' + job.color_control,
              images.displayable(images.resize_rgb(content, *size)))]
    for index, (style, mask, image_mask) in enumerate(zip(styles, masks, image_masks)):
        name = 'style %d' % (index + 1) if len(styles) > 1 else 'style'
        items.append((name, images.displayable(images.resize_rgb(style, *style_size))))
        for what, plane, at in (('mask', mask, size), ('image mask', image_mask, style_size)):
            if plane is not None:
                items.append(('%s %s' % (name, what), images.displayable(
                    colors.gray(255 * images.resize_mask(plane, *at)))))
    return items


class Progress:
    """One painting's progress on disk: log rows, checkpoints, the record, the last files."""

    SHEET_CHECKPOINTS = 8

    def __init__(self, job, record, say, pictures, board):
        self.job, self.record, self.say, self.board = job, record, say, board
        self.started = time.time()
        self.content_pixels = images.resize_rgb(pictures.content, *job.size)
        self.inputs = sheet_inputs(job, pictures)
        self.rows = []  # trajectory rows, into the record each time it is written
        self.thumbnails = []
        self.last = None
        try:
            self.log = LossLog(job.loss_log, record['weights']['note'])
            self._write_record()
        except files.WriteError as error:  # before painting: the user's to mend
            raise UsageError(str(error)) from None
        board.begin_painting(**painting_values(job, record, '%s in the style of %s' % (
            os.path.basename(job.content), ' + '.join(map(os.path.basename, job.style))),
                                               job.total_iterations))

    def _write_record(self):
        """Write the record, with every row so far."""
        self.record['trajectory']['rows'] = [list(row.values()) for row in self.rows]
        write_record(self.job.record_path, self.record)

    def pixels(self, iterate):
        """The picture an iterate stands for (Job.picture)."""
        return self.job.picture(iterate.image, self.content_pixels)

    def _outcome(self, iterate, **more):
        self.record['outcome'].update(
            iterations=iterate.iteration, evaluations=iterate.evaluations,
            seconds=round(time.time() - self.started, 3), **group_losses(iterate), **more)

    def add(self, iterate):
        """Log an iterate; write it as a checkpoint, and the record, when its iteration is due."""
        if self.last is not None and iterate.precision != self.last.precision:
            self.say('iteration %d on: %s (until iteration %d: %s, total loss %.4g)' % (
                iterate.iteration, iterate.precision, self.last.iteration, self.last.precision,
                self.last.total_loss))
        if not self.rows:
            self.record['trajectory']['columns'] = list(trajectory_columns(iterate.groups))
        row = trajectory_row(self.record['trajectory']['columns'], iterate,
                             time.time() - self.started)
        self.last = iterate
        self.rows.append(row)
        self.log.add(row)
        height, width = np.shape(iterate.image)[1:3]
        self.board.add_row(row, lambda: jpeg(self.pixels(iterate)),
                           precision=iterate.precision, scale='%dx%d' % (width, height))
        every = self.job.checkpoint_every
        asked = self.board.take_save()
        if asked or every and iterate.iteration % every == 0:
            path = self.job.checkpoint_path(iterate.iteration)
            pixels = self.pixels(iterate)
            self.record['checkpoints'].append(saved_checkpoint(path, pixels, row))
            self.thumbnails.append(('iteration %d' % iterate.iteration, _thumbnail(pixels)))
            self._outcome(iterate)
            self._write_record()
            self.say('iteration %d: %d evaluations, total loss %.4g -> %s%s' % (
                iterate.iteration, iterate.evaluations, iterate.total_loss, path,
                ' (Save now, from the page)' if asked else ''))

    def sheet_items(self, result):
        """The contact sheet's (label, pixels): the inputs, at most SHEET_CHECKPOINTS of the
        checkpoints, and the result."""
        step = max(1, -(-len(self.thumbnails) // self.SHEET_CHECKPOINTS))
        return self.inputs + self.thumbnails[::step] + [
            ('result, iteration %d' % self.last.iteration, result)]

    def finish(self, ending):
        """Write the last image, the sheet, the curve and the record; report; return the
        Ending's exit code.

        Each file is tried whatever became of the ones before it (on a full disk the
        record may still fit); the first WriteError is raised after the report, and a
        result that could not be written makes the run failed.
        """
        self.log.close()
        code, status, reason = ending
        last = self.last
        if last is None:
            self.record['outcome'].update(status=status, reason=reason)
            self._write_record()
            self.board.end(status, reason, downloads(self.job.record_path))
            self.say('%s before the first iteration; no image written' % (reason or status))
            return code
        unwritten = []

        def attempt(write, *arguments):
            """write(*arguments)'s result, or None when it could not write its file."""
            try:
                return write(*arguments)
            except files.WriteError as error:
                unwritten.append(error)
                return None

        result = self.pixels(last)
        attempt(files.save_rgb, self.job.output, result)
        image_sha256 = None
        if unwritten:
            code = EXIT_FAILED
            if status != 'failed':  # a failure before this one stays the reason
                status, reason = 'failed', 'error: %s' % unwritten[0]
        else:
            image_sha256 = files.file_sha256(self.job.output)
        attempt(sheets.contact_sheet, self.job.sheet_path, self.sheet_items(result))
        drawn = attempt(sheets.loss_curve, self.job.curve_path, *curve_of(self.rows))
        self._outcome(last, status=status, reason=reason, image_sha256=image_sha256)
        attempt(self._write_record)
        self.board.end(status, reason, downloads(
            self.job.output, self.job.record_path, self.job.sheet_path, self.job.curve_path))
        self.say(ending_line(self.job, last, reason or status, self.record['outcome']['seconds'],
                             drawn))
        if unwritten:
            raise unwritten[0]
        return code


def saved_checkpoint(path, pixels, row, **more):
    """Write `pixels` to `path` as a checkpoint; its entry in the record's checkpoints (the
    trajectory row `row`, `more`, the path and its sha256)."""
    files.save_rgb(path, pixels)
    return dict(row, **more, path=path, sha256=files.file_sha256(path))


def curve_of(rows):
    """The loss curve's evaluations and {loss column: values} of trajectory rows."""
    columns = loss_names(rows[0])
    return (np.array([row['evaluations'] for row in rows], np.float64),
            {column: np.array([row[column] for row in rows], np.float64) for column in columns})


def downloads(*paths):
    """{name: path} of the files among `paths` that were written, for the page."""
    return {os.path.basename(path): path for path in paths if path and os.path.exists(path)}


def ending_line(job, last, how, seconds, drawn):
    """The run's last line: how it ended, its last Iterate, and where its files are (the
    loss curve drawn, not drawn for want of matplotlib (False), or not written (None))."""
    return ('%s in %.1f s: %d iterations, %d evaluations; %s -> %s (record %s, contact sheet '
            '%s, %s)' % (
                how, seconds, last.iteration, last.evaluations, ', '.join(
                    '%s %.4g' % item for item in iterate_losses(last).items()),
                job.output, job.record_path, job.sheet_path,
                'loss curve %s' % job.curve_path if drawn else
                "no loss curve: pip install -e '.[plots]' for matplotlib"
                if drawn is False else 'loss curve not written'))
