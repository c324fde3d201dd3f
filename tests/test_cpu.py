"""The processor as TensorFlow uses it: detected from /proc/cpuinfo, never assumed."""
import os
import subprocess
import sys

import pytest

from art.engine import cpu
from helpers import ROOT

FLAGS = {
    'amd-epyc-avx2': 'fpu sse4_1 sse4_2 avx f16c fma avx2 bmi2 sha_ni',
    'xeon-amx': 'sse4_2 avx avx2 fma avx512f avx512dq avx512bw avx512vl avx512_vnni '
                'avx512_bf16 avx512_fp16 amx_bf16 amx_tile amx_int8',
    'xeon-avx512': 'sse4_2 avx avx2 fma avx512f avx512dq avx512bw avx512vl avx512_vnni',
    'zen4-bf16': 'sse4_2 avx avx2 fma avx512f avx512dq avx512bw avx512vl avx512_bf16',
    'old': 'sse4_1 sse4_2',
}


@pytest.mark.parametrize('name,isa', [('amd-epyc-avx2', 'avx2'), ('xeon-amx', 'amx'),
                                      ('xeon-avx512', 'avx512'), ('zen4-bf16', 'avx512_bf16'),
                                      ('old', 'sse4_1')])
def test_cpuinfo_and_the_isa_onednn_dispatches_to(tmp_path, name, isa):
    path = tmp_path / 'cpuinfo'
    path.write_text('processor\t: 0\nmodel name\t: Test CPU %s\nflags\t\t: %s\n\n'
                    'processor\t: 1\nmodel name\t: other\nflags\t\t: none\n' % (name, FLAGS[name]))
    model, flags = cpu.cpuinfo(str(path))
    assert model == 'Test CPU %s' % name and flags == set(FLAGS[name].split())
    assert cpu.onednn_isa(flags) == isa


def test_onednn_max_cpu_isa_caps_the_isa_and_never_widens_it():
    flags = set(FLAGS['xeon-amx'].split())
    assert cpu.onednn_isa(flags, {'ONEDNN_MAX_CPU_ISA': 'AVX2'}) == 'avx2'
    assert cpu.onednn_isa(flags, {'ONEDNN_MAX_CPU_ISA': 'avx512_core'}) == 'avx512'
    assert cpu.onednn_isa(flags, {'ONEDNN_MAX_CPU_ISA': 'ALL'}) == 'amx'
    assert cpu.onednn_isa(set(FLAGS['amd-epyc-avx2'].split()),
                          {'ONEDNN_MAX_CPU_ISA': 'AVX512_CORE_AMX'}) == 'avx2'


@pytest.mark.parametrize('name,onednn,form', [
    ('amd-epyc-avx2', True, 'constants'), ('old', True, 'constants'),
    ('xeon-amx', True, 'variables'), ('xeon-avx512', True, 'variables'),
    ('zen4-bf16', True, 'variables'), ('amd-epyc-avx2', False, 'variables')])
def test_weights_are_constants_where_onednn_runs_avx2_kernels(name, onednn, form):
    """AVX2 kernels reorder a variable's kernel at every evaluation (bench/RESULTS.md)."""
    assert cpu.weight_form(set(FLAGS[name].split()), onednn) == form


# The ISA families in oneDNN's verbose words, widest first. Within AVX-512 the words for
# its extensions (bfloat16, AMX, float16) change between oneDNN versions, and AMX needs
# the kernel's permission as well as the flag, so only the family is compared.
FAMILIES = (('AVX-512', ('amx', 'avx512_bf16', 'avx512')), ('AVX2', ('avx2',)),
            ('AVX', ('avx',)), ('SSE4.1', ('sse4_1',)))


@pytest.mark.parametrize('cap', [None, 'AVX2'])
def test_the_derived_isa_is_of_the_family_onednn_reports_on_this_machine(cap):
    """oneDNN's verbose mode names the ISA it dispatches to; ours must be of its family,
    also where ONEDNN_MAX_CPU_ISA caps it (AVX2 runs on every CPU this project meets)."""
    script = ('import art.engine.tf1; from art.engine.tf1 import tf; '
              'tf.nn.conv2d(tf.ones((1, 8, 8, 8)), tf.ones((3, 3, 8, 8)), 1, "SAME")')
    env = dict(os.environ, PYTHONPATH=str(ROOT), ONEDNN_VERBOSE='1', TF_ENABLE_ONEDNN_OPTS='1')
    env.pop('ONEDNN_MAX_CPU_ISA', None)
    env.update({'ONEDNN_MAX_CPU_ISA': cap} if cap else {})
    result = subprocess.run([sys.executable, '-c', script], capture_output=True, text=True,
                            env=env, timeout=300)
    reported = [line.split('isa:', 1)[1] for line in result.stdout.splitlines()
                if ',cpu,isa:' in line]
    assert reported, result.stdout[-2000:] + result.stderr[-2000:]
    words = reported[0]
    family = next(names for keyword, names in FAMILIES if keyword in words)
    assert cpu.onednn_isa(cpu.cpuinfo()[1], env) in family, words


@pytest.mark.parametrize('value, onednn, allocator', [
    (None, True, 'oneDNN pool'), ('1', True, 'system'), ('True', True, 'system'),
    ('0', True, 'oneDNN pool'), (None, False, 'system')])
def test_the_allocator_is_the_one_tensorflow_reads_from_the_environment(
        monkeypatch, value, onednn, allocator):
    """oneDNN's pool unless SYSTEM_ALLOCATOR is true (TensorFlow's ReadBoolFromEnvVar:
    1 or true, any case); without oneDNN, TensorFlow's CPU buffers come from malloc."""
    if value is not None:
        monkeypatch.setenv(cpu.SYSTEM_ALLOCATOR, value)
    assert cpu.allocator(onednn) == allocator
