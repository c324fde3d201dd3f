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


# The ISA families in oneDNN's verbose words, widest first. Within AVX-512 the words for
# its extensions (bfloat16, AMX, float16) change between oneDNN versions, and AMX needs
# the kernel's permission as well as the flag, so only the family is compared.
FAMILIES = (('AVX-512', ('amx', 'avx512_bf16', 'avx512')), ('AVX2', ('avx2',)),
            ('AVX', ('avx',)), ('SSE4.1', ('sse4_1',)))


def test_the_derived_isa_is_of_the_family_onednn_reports_on_this_machine():
    """oneDNN's verbose mode names the ISA it dispatches to; ours must be of its family."""
    script = ('import art.engine.tf1; from art.engine.tf1 import tf; '
              'tf.nn.conv2d(tf.ones((1, 8, 8, 8)), tf.ones((3, 3, 8, 8)), 1, "SAME")')
    result = subprocess.run([sys.executable, '-c', script], capture_output=True, text=True,
                            env=dict(os.environ, PYTHONPATH=str(ROOT), ONEDNN_VERBOSE='1',
                                     TF_ENABLE_ONEDNN_OPTS='1'), timeout=300)
    reported = [line.split('isa:', 1)[1] for line in result.stdout.splitlines()
                if ',cpu,isa:' in line]
    assert reported, result.stdout[-2000:] + result.stderr[-2000:]
    words = reported[0]
    family = next(names for keyword, names in FAMILIES if keyword in words)
    assert cpu.onednn_isa(cpu.cpuinfo()[1]) in family, words


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
