"""The processor: its model, the instruction sets that matter to TensorFlow, and
the one oneDNN dispatches to. Read from /proc/cpuinfo; no TensorFlow here.

The CPU differs between machines of one kind (an AVX2-only AMD EPYC, an
Intel Xeon with AVX-512 and AMX), so this is detected, never assumed, and
every record says which it was.
"""
import importlib
import os
import platform

# cpuinfo flags that decide which kernels oneDNN and Eigen run, in that order.
INSTRUCTION_SETS = ('sse4_2', 'avx', 'avx2', 'fma', 'avx512f', 'avx512bw', 'avx512vl',
                    'avx512dq', 'avx512_vnni', 'avx512_bf16', 'avx512_fp16', 'amx_tile',
                    'amx_bf16', 'amx_int8')
AVX512_CORE = ('avx512f', 'avx512bw', 'avx512vl', 'avx512dq')
# With oneDNN on, TensorFlow's CPU kernels take large buffers from oneDNN's pool,
# which keeps them for good, unless this variable is true when TensorFlow first
# allocates (it reads it once per process); then from malloc.
SYSTEM_ALLOCATOR = 'TF_ONEDNN_USE_SYSTEM_ALLOCATOR'


def cpuinfo(path='/proc/cpuinfo'):
    """(model name, set of flags) of the first processor; empty where unknown."""
    model, flags = '', set()
    try:
        with open(path, encoding='utf-8', errors='replace') as handle:
            for line in handle:
                key, _, value = line.partition(':')
                key = key.strip()
                if key == 'model name' and not model:
                    model = value.strip()
                elif key == 'flags' and not flags:
                    flags = set(value.split())
                if model and flags:
                    break
    except OSError:
        pass
    return model or platform.processor() or platform.machine(), flags


# oneDNN's instruction sets, narrowest first, and the ONEDNN_MAX_CPU_ISA values that cap
# its dispatch at each.
ONEDNN_ISAS = ('none', 'sse4_1', 'avx', 'avx2', 'avx512', 'avx512_bf16', 'amx')
MAX_CPU_ISA = {'SSE41': 'sse4_1', 'AVX': 'avx', 'AVX2': 'avx2', 'AVX2_VNNI': 'avx2',
               'AVX2_VNNI_2': 'avx2', 'AVX512_CORE': 'avx512', 'AVX512_CORE_VNNI': 'avx512',
               'AVX512_CORE_BF16': 'avx512_bf16', 'AVX512_CORE_FP16': 'avx512_bf16',
               'AVX512_CORE_AMX': 'amx', 'AVX512_CORE_AMX_FP16': 'amx', 'ALL': 'amx'}


def onednn_isa(flags, environ=os.environ):
    """The widest instruction set oneDNN's CPU engine dispatches to on a CPU with
    `flags`: 'amx', 'avx512_bf16', 'avx512', 'avx2', 'avx' or 'sse4_1', no wider than
    ONEDNN_MAX_CPU_ISA allows where it is set.

    oneDNN's verbose mode prints the same choice in words (`isa:Intel AVX2`,
    `isa:Intel AVX-512 with ... bfloat16 ... AMX ...`); the names here are
    short and stable across oneDNN versions.
    """
    if all(flag in flags for flag in AVX512_CORE):
        widest = ('amx' if {'amx_tile', 'amx_bf16'} <= flags else
                  'avx512_bf16' if 'avx512_bf16' in flags else 'avx512')
    else:
        widest = next((name for name in ('avx2', 'avx', 'sse4_1') if name in flags), 'none')
    cap = MAX_CPU_ISA.get(environ.get('ONEDNN_MAX_CPU_ISA', '').strip().upper(), 'amx')
    return min(widest, cap, key=ONEDNN_ISAS.index)


def weight_form(flags, onednn):
    """How the engine holds VGG's weights (art.engine.vgg.WEIGHT_FORMS) on a CPU with
    `flags`: as constants where oneDNN runs AVX2 kernels or narrower, which reorder a
    variable's kernels at every evaluation and a constant's once (evaluations 1.2 to 1.35x
    faster, bench/RESULTS.md); as variables elsewhere, where both evaluate alike and a
    variable costs less memory and start-up."""
    if onednn and ONEDNN_ISAS.index(onednn_isa(flags)) <= ONEDNN_ISAS.index('avx2'):
        return 'constants'
    return 'variables'


def engine_weight_form():
    """weight_form of this process's CPU, oneDNN on unless TF_ENABLE_ONEDNN_OPTS=0 (what
    TensorFlow reads, art.engine.tf1's default on): no need to import TensorFlow."""
    return weight_form(cpuinfo()[1], os.environ.get('TF_ENABLE_ONEDNN_OPTS', '1') != '0')


def onednn_enabled():
    """True when TensorFlow's oneDNN kernels are on (TensorFlow imported with the project's
    settings first: oneDNN's switch is read when it loads)."""
    importlib.import_module('art.engine.tf1')
    try:
        from tensorflow.python.util import _pywrap_util_port  # pylint: disable=import-outside-toplevel
        return bool(_pywrap_util_port.IsMklEnabled())
    except ImportError:
        return os.environ.get('TF_ENABLE_ONEDNN_OPTS') == '1'


def gpu_names():
    """The names of the GPUs TensorFlow sees (empty on a CPU-only machine)."""
    from art.engine.tf1 import quiet_stderr, tf  # pylint: disable=import-outside-toplevel
    with quiet_stderr():
        gpus = tf.config.list_physical_devices('GPU')
    return [tf.config.experimental.get_device_details(gpu).get('device_name', gpu.name)
            for gpu in gpus]


def tensorflow_version():
    """TensorFlow's version, as the project imports it."""
    return importlib.import_module('art.engine.tf1').tf.__version__


def allocator(onednn):
    """Where TensorFlow's CPU kernels take their buffers: 'oneDNN pool' or 'system'
    (malloc, which hands freed buffers back), as SYSTEM_ALLOCATOR says."""
    chosen = os.environ.get(SYSTEM_ALLOCATOR, '').strip().lower() in ('1', 'true')
    return 'oneDNN pool' if onednn and not chosen else 'system'


def describe():
    """The processor as a record holds it."""
    model, flags = cpuinfo()
    onednn = onednn_enabled()
    return {'model': model, 'cores': len(os.sched_getaffinity(0)),
            'instruction_sets': [name for name in INSTRUCTION_SETS if name in flags],
            'onednn': onednn, 'onednn_isa': onednn_isa(flags), 'allocator': allocator(onednn),
            'weights': engine_weight_form()}


class PrecisionError(ValueError):
    """--precision bfloat16 where it cannot run natively; the message names what is missing."""


def native_bfloat16(flags, environ=os.environ):
    """The CPU feature that gives oneDNN native bfloat16 arithmetic ('AMX' or
    'AVX512_BF16'), or None: elsewhere (or where ONEDNN_MAX_CPU_ISA keeps oneDNN from it)
    oneDNN emulates it, slower than float32, or cannot run it at all."""
    return {'amx': 'AMX', 'avx512_bf16': 'AVX512_BF16'}.get(onednn_isa(flags, environ))


def choose_precision(requested, model, flags, onednn):
    """(precision the painting's bulk runs in, why, a hint or None) for --precision `requested`
    on a CPU `model` with `flags`, oneDNN on or off. Raises PrecisionError for a
    bfloat16 that would be emulated."""
    feature = native_bfloat16(flags)
    if requested == 'bfloat16':
        if feature is None:
            raise PrecisionError(
                '--precision bfloat16 needs a CPU with AMX or AVX512_BF16, and this %s has '
                'neither (emulated bfloat16 is slower than float32); use --precision float32 '
                'or auto' % model)
        if not onednn:
            raise PrecisionError('--precision bfloat16 needs oneDNN, which '
                                 'TF_ENABLE_ONEDNN_OPTS=0 turns off; unset it or use '
                                 '--precision float32')
        return 'bfloat16', 'as asked; the CPU has %s' % feature, None
    if requested == 'auto':
        if feature and onednn:
            return 'bfloat16', 'auto: the CPU has %s and oneDNN is on' % feature, None
        return 'float32', ('auto: oneDNN is off (TF_ENABLE_ONEDNN_OPTS=0)' if feature else
                           'auto: the CPU has neither AMX nor AVX512_BF16'), None
    hint = None
    if feature and onednn:
        hint = ('hint: this CPU has %s: --precision bfloat16 (or auto) evaluates several times '
                'faster and finishes in float32' % feature)
    return 'float32', 'as asked', hint
