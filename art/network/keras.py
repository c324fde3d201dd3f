"""VGG-19's weights from Keras's file, and any network in Keras's layout as MatConvNet holds it.

`tf.keras.applications.VGG19(weights='imagenet', include_top=False)` downloads
vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5 (80 MB, float32): the trained network
of Simonyan and Zisserman as converted from Caffe, so the numbers MatConvNet's file
holds, laid out otherwise:
- a group per conv layer, `blockB_convC`, its kernel (height, width, in, out) and bias
  (out,) as datasets named in its `weight_names` attribute;
- the first layer takes BGR less the Caffe means; MatConvNet's (and art.py's
  MEAN_VALUES) RGB.
`from_keras_layers` gives what the MatConvNet file would: each kernel's spatial axes
swapped (its (width, height) as read from Python, which art.py fed to conv2d as stored)
and conv1_1's input channels reversed, so that --kernel-layout means the same for all.
"""
import numpy as np

from art.network.weights import ConvLayer, WeightsError, check_chain

# The file's MD5, as keras/src/applications/vgg19.py gives it.
KERAS_MD5 = '253f8cb515780f3b799900260a226db6'


def keras_group(name):
    """Keras's name of a conv layer: conv3_2 -> block3_conv2."""
    return 'block%s_conv%s' % tuple(name[len('conv'):].split('_'))


def from_keras_layers(keras, source):
    """{name: ConvLayer} as MatConvNet's file holds them, from {name: (kernel, bias)} in
    Keras's layout (see the module); checked to chain as VGG-19's convs do."""
    layers = {}
    for name, (kernel, bias) in keras.items():
        kernel = np.asarray(kernel, np.float32).transpose(1, 0, 2, 3)
        if name == 'conv1_1':
            kernel = kernel[:, :, ::-1, :]  # BGR -> RGB
        layers[name] = ConvLayer(np.ascontiguousarray(kernel),
                                 np.asarray(bias, np.float32).reshape(-1))
    check_chain(layers, source)
    return layers


def _kernel_and_bias(group, source, name):
    """The 4-D and the 1-D dataset of a layer's group."""
    import h5py  # pylint: disable=import-outside-toplevel
    names = [value.decode() if isinstance(value, bytes) else str(value)
             for value in group.attrs.get('weight_names', ())]
    datasets = ([group[value] for value in names] if names else
                [item for item in group.values() if isinstance(item, h5py.Dataset)])
    if not names and not datasets:  # a saved model nests the datasets one group deeper
        nested = [item for item in group.values() if isinstance(item, h5py.Group)]
        datasets = [item for inner in nested for item in inner.values()
                    if isinstance(item, h5py.Dataset)]
    kernels = [data[()] for data in datasets if data.ndim == 4]
    biases = [data[()] for data in datasets if data.ndim == 1]
    if len(kernels) != 1 or len(biases) != 1:
        raise WeightsError('%s: group %s has no kernel and bias: not Keras\'s VGG-19 weights'
                           % (source, keras_group(name)))
    return kernels[0], biases[0]


def read_keras(path, layers):
    """The conv layers `layers` of a Keras VGG-19 .h5 file, as MatConvNet's file holds
    them: {name: ConvLayer}. WeightsError, naming the file, when it cannot be."""
    import h5py  # pylint: disable=import-outside-toplevel
    try:
        with h5py.File(path, 'r') as h5:
            root = h5['model_weights'] if 'model_weights' in h5 else h5
            keras = {}
            for name in layers:
                if keras_group(name) not in root:
                    raise WeightsError('%s: no group %s: not Keras\'s VGG-19 weights'
                                       % (path, keras_group(name)))
                keras[name] = _kernel_and_bias(root[keras_group(name)], path, name)
    except (OSError, KeyError, ValueError) as error:
        raise WeightsError('%s: not a readable HDF5 file of weights (%s)' % (
            path, str(error).splitlines()[0] if str(error) else type(error).__name__)) from None
    return from_keras_layers(keras, path)


def write_keras(path, layers):
    """Write conv layers ({name: ConvLayer} as MatConvNet's file holds them) as a Keras .h5
    file of weights, the inverse of read_keras: a file of Keras's layout made here (for
    tests, and to hand a network to Keras)."""
    import h5py  # pylint: disable=import-outside-toplevel
    with h5py.File(path, 'w') as h5:
        h5.attrs['layer_names'] = [keras_group(name).encode() for name in layers]
        for name, layer in layers.items():
            kernel = layer.kernel[:, :, ::-1, :] if name == 'conv1_1' else layer.kernel
            group = h5.create_group(keras_group(name))
            names = ['%s_W_1:0' % keras_group(name), '%s_b_1:0' % keras_group(name)]
            group.attrs['weight_names'] = [value.encode() for value in names]
            group[names[0]] = kernel.transpose(1, 0, 2, 3)
            group[names[1]] = layer.bias
