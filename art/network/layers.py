"""VGG-19's topology: layer names, order, widths and receptive fields. No TensorFlow here."""
import math

# The 43 layers of imagenet-vgg-verydeep-19.mat, in file order.
VGG19_LAYERS = (
    'conv1_1', 'relu1_1', 'conv1_2', 'relu1_2', 'pool1',
    'conv2_1', 'relu2_1', 'conv2_2', 'relu2_2', 'pool2',
    'conv3_1', 'relu3_1', 'conv3_2', 'relu3_2',
    'conv3_3', 'relu3_3', 'conv3_4', 'relu3_4', 'pool3',
    'conv4_1', 'relu4_1', 'conv4_2', 'relu4_2',
    'conv4_3', 'relu4_3', 'conv4_4', 'relu4_4', 'pool4',
    'conv5_1', 'relu5_1', 'conv5_2', 'relu5_2',
    'conv5_3', 'relu5_3', 'conv5_4', 'relu5_4', 'pool5',
    'fc6', 'relu6', 'fc7', 'relu7', 'fc8', 'prob',
)
# The convolutions art.py builds, in order.
CONV_LAYERS = tuple(name for name in VGG19_LAYERS if name.startswith('conv'))
# Output channels of each block in the real network.
VGG19_WIDTHS = {1: 64, 2: 128, 3: 256, 4: 512, 5: 512}
POOLINGS = ('avg', 'max')


def block_of(conv):
    """The block a conv layer is in, from its name: conv3_1 -> 3."""
    return int(conv[len('conv')])


def layer_names(pooling='avg'):
    """The graph's keys after 'input', in build order: conv1_1 ... avgpool5."""
    names = []
    for name in CONV_LAYERS:
        if names and block_of(name) != block_of(names[-1]):
            names.append('%spool%d' % (pooling, block_of(names[-1])))
        names.append(name)
    return tuple(names) + ('%spool5' % pooling,)


def deepest_layer(layers, pooling='avg'):
    """The last layer of the network that any of `layers` (names) needs.

    Raises ValueError naming a layer the network does not have.
    """
    order = layer_names(pooling)
    unknown = [layer for layer in layers if layer not in order]
    if unknown:
        raise ValueError('unknown layer %r; the network has %s'
                         % (unknown[0], ', '.join(order)))
    return max(layers, key=order.index)


def convs_up_to(last_layer, pooling='avg'):
    """The conv layers a graph ending at `last_layer` is built from."""
    names = layer_names(pooling)
    if last_layer not in names:
        raise ValueError('unknown layer %r; the network has %s' % (last_layer, ', '.join(names)))
    return tuple(name for name in names[:names.index(last_layer) + 1] if name.startswith('conv'))


def receptive_field(last_layer, pooling='avg'):
    """(stride, radius) at `last_layer`: the input pixels per feature position, and how
    far beyond its own stride x stride block a position's value reaches on each side.

    Each 3x3 convolution reaches one position further at its layer's stride;
    a 2x2 pooling with stride 2 doubles the stride and, measured from its
    block, reaches no further.
    """
    stride, radius = 1, 0
    for name in layer_names(pooling)[:layer_names(pooling).index(last_layer) + 1]:
        if name.startswith('conv'):
            radius += stride
        else:
            stride *= 2
    return stride, radius


def halo_for(last_layer, pooling='avg'):
    """(stride, halo): the halo is the receptive field's radius rounded up to the stride."""
    stride, radius = receptive_field(last_layer, pooling)
    return stride, stride * math.ceil(radius / stride)


def aligned_tile(tile, stride):
    """A tile side of at least `tile` pixels on a multiple of `stride`, and at least one stride."""
    return stride * max(1, math.ceil(tile / stride))
