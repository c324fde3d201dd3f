"""A cache of the conv weights the losses need, keyed by the .mat file's MD5.

Reading the 510 MB .mat parses every layer, fc6..fc8 included, and hashing it
takes about a second; both are done once. The cache lives in
$ART_CACHE_DIR, else $XDG_CACHE_HOME/art, else ~/.cache/art:
- `checksums.json` maps a weights file (real path, size, mtime) to its MD5,
  so an unchanged file is not hashed again;
- `vgg19-<md5>-<as-stored|transposed>.npz` holds the conv layers read so far.
A cache that cannot be read or written is passed over: runs never depend on it.
"""
import json
import os

import numpy as np

from art.files import file_md5, write_atomic, write_text
from art.weights import ConvLayer, VGGWeights, read_vgg19


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
    except OSError:
        pass


def file_checksum(path):
    """The MD5 of `path`, hashed again only when its size or mtime changed."""
    index_path = os.path.join(cache_dir(), 'checksums.json')
    stat = os.stat(path)
    key = os.path.realpath(path)
    stamp = [stat.st_size, stat.st_mtime_ns]
    try:
        with open(index_path, encoding='utf-8') as handle:
            index = json.load(handle)
    except (OSError, ValueError):
        index = {}
    entry = index.get(key)
    if isinstance(entry, dict) and entry.get('stamp') == stamp:
        return entry['md5']
    md5 = file_md5(path).hexdigest()
    index[key] = {'stamp': stamp, 'md5': md5}

    _try_write(index_path, lambda partial: write_text(partial, json.dumps(index)))
    return md5


def _load(cache_path, layers):
    """(layout, {name: ConvLayer}) from a cache file, or None if it lacks any of `layers`."""
    try:
        with np.load(cache_path) as stored:
            names = set(stored.files)
            if 'layout' not in names or not all(name + '.kernel' in names for name in layers):
                return None
            return str(stored['layout']), {
                name[:-len('.kernel')]: ConvLayer(stored[name], stored[name[:-len('kernel')] + 'bias'])
                for name in names if name.endswith('.kernel')}
    except (OSError, ValueError, KeyError, EOFError):
        return None


def read_vgg19_cached(path, layers, kernel_layout='as-stored'):
    """read_vgg19, from the cache when it holds `layers` of this very file.

    The returned VGGWeights carries `md5`, the file's checksum.
    """
    md5 = file_checksum(path)
    cache_path = os.path.join(cache_dir(), 'vgg19-%s-%s.npz' % (md5, kernel_layout))
    cached = _load(cache_path, layers)
    if cached is None:
        weights = read_vgg19(path, layers=layers, kernel_layout=kernel_layout)
        previous = _load(cache_path, ())
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
