"""The photo/painting pairs bench/quality.py paints, from a package Debian ships.

GCompris's data package (gcompris-qt-data 3.1-2, GPL-3, Debian's `main`) holds
photographs of monuments and animals and public-domain paintings (Van Gogh's) in
Qt resource files. They are fetched from Debian's mirror once into the weights cache,
checked by SHA-256, and read here; nothing of them is committed. The project's own
example pair (art/examples) is the first pair.
"""
import functools
import io
import os
import struct
import tarfile
import zlib

import numpy as np
from PIL import Image

from art.examples import CONTENT, STYLE
from art.io import files
from art.network.cache import cache_dir
from art.network.download import download

DEB = 'gcompris-qt-data_3.1-2_all.deb'
DEB_URL = 'https://deb.debian.org/debian/pool/main/g/gcompris-qt/' + DEB
DEB_SHA256 = 'e9cf06ab2105529068df73085784e835d2ff03f870d2a8091f09125d40abac9f'
RESOURCES = './usr/share/gcompris-qt/rcc/'

# name: (resource file, entry) of each picture; the photos public domain or CC0, the
# paintings Van Gogh's (public domain), as the package's READMEs say.
PICTURES = {
    'cat': ('explore_farm_animals.rcc', 'cat.webp'),
    'colosseum': ('explore_monuments.rcc', 'wonders/colosseum.webp'),
    'horse': ('explore_farm_animals.rcc', 'horse.webp'),
    'dog': ('explore_farm_animals.rcc', 'dog.webp'),
    'cafe-terrace': ('details.rcc', 'Gogh4_background.webp'),
    'night-cafe': ('details.rcc', 'Van_Gogh_The_Night_Cafe_background.webp'),
    'harvest': ('details.rcc', 'VincentVanGogh0019_background.webp'),
    'church-at-auvers': ('details.rcc', 'Eglise_dAuvers-sur-Oise_background.webp'),
}
# (photo, painting): the project's example first.
PAIRS = (('harbour', 'swirls'), ('cat', 'cafe-terrace'), ('colosseum', 'night-cafe'),
         ('horse', 'harvest'), ('dog', 'church-at-auvers'))


def read_deb_member(path, member):
    """The bytes of `member` of the data archive of the Debian package at `path`."""
    with open(path, 'rb') as deb:
        if deb.read(8) != b'!<arch>\n':
            raise ValueError('%s is not a Debian package' % path)
        while True:
            header = deb.read(60)
            if len(header) < 60:
                raise ValueError('%s has no data archive' % path)
            name, size = header[:16].decode().strip().rstrip('/'), int(header[48:58])
            body = deb.read(size + size % 2)[:size]
            if name.startswith('data.tar'):
                with tarfile.open(fileobj=io.BytesIO(body)) as archive:
                    return archive.extractfile(member).read()


def read_rcc(data):
    """{path: bytes} of a Qt resource file (rcc's binary format, versions 1 to 3)."""
    magic, version, tree, payload, names = struct.unpack('>4sIIII', data[:20])
    if magic != b'qres':
        raise ValueError('not a Qt resource file')
    node_size = 14 if version == 1 else 22

    def name_at(offset):
        length = struct.unpack('>H', data[names + offset:names + offset + 2])[0]
        return data[names + offset + 6:names + offset + 6 + 2 * length].decode('utf-16-be')

    def walk(node, prefix, found):
        base = tree + node * node_size
        name_offset, flags = struct.unpack('>IH', data[base:base + 6])
        name = name_at(name_offset) if node else ''
        if flags & 2:
            count, first = struct.unpack('>II', data[base + 6:base + 14])
            for child in range(first, first + count):
                walk(child, prefix + name + '/', found)
            return found
        offset = payload + struct.unpack('>I', data[base + 10:base + 14])[0]
        size = struct.unpack('>I', data[offset:offset + 4])[0]
        body = data[offset + 4:offset + 4 + size]
        found[prefix + name] = zlib.decompress(body[4:]) if flags & 1 else body
        return found
    return walk(0, '', {})


def fetch_package(cache=None):
    """The package's path in the weights cache, fetched (and checked) where missing."""
    path = os.path.join(cache or cache_dir(), DEB)
    if not os.path.exists(path):
        download(DEB_URL, path, known={DEB_SHA256}, digest='sha256')
    return path


@functools.lru_cache(maxsize=None)
def resource_files(resource, cache=None):
    """{path: bytes} of one of the package's resource files."""
    return read_rcc(read_deb_member(fetch_package(cache), RESOURCES + resource))


def picture(name, cache=None):
    """The named picture, RGB uint8 (the example pair's are the project's own)."""
    if name in ('harbour', 'swirls'):
        return files.read_rgb(CONTENT if name == 'harbour' else STYLE)
    resource, entry = PICTURES[name]
    matches = [data for path, data in resource_files(resource, cache).items()
               if path.endswith('/' + entry)]
    if len(matches) != 1:
        raise ValueError('%s: %d entries %s in %s' % (name, len(matches), entry, resource))
    return np.asarray(Image.open(io.BytesIO(matches[0])).convert('RGB'))
