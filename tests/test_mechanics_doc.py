"""docs/mechanics.md runs: every python block in order, each printing its text block."""
import pathlib
import time

from helpers import run_document

DOC = pathlib.Path(__file__).resolve().parents[1] / 'docs' / 'mechanics.md'


def test_every_block_runs_and_prints_what_the_document_says():
    started = time.time()
    assert run_document(DOC, {'__name__': 'mechanics'}) >= 8
    print('docs/mechanics.md ran in %.1f s' % (time.time() - started))
