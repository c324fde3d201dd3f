"""docs/mechanics.md runs: every python block in order, each printing its text block."""
import contextlib
import io
import pathlib
import re
import time

DOC = pathlib.Path(__file__).resolve().parents[1] / 'docs' / 'mechanics.md'
BLOCK = re.compile(r'```(python|text)\n(.*?)```', re.S)


def blocks():
    """(code, expected output or None) pairs, in the document's order."""
    found = BLOCK.findall(DOC.read_text())
    pairs = []
    for index, (kind, body) in enumerate(found):
        if kind == 'python':
            following = found[index + 1] if index + 1 < len(found) else None
            pairs.append((body, following[1] if following and following[0] == 'text' else None))
    return pairs


def test_every_block_runs_and_prints_what_the_document_says():
    namespace = {'__name__': 'mechanics'}
    started = time.time()
    pairs = blocks()
    assert len(pairs) >= 8
    for number, (code, expected) in enumerate(pairs, start=1):
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(compile(code, '%s block %d' % (DOC.name, number), 'exec'), namespace)  # noqa: S102
        if expected is not None:
            assert printed.getvalue() == expected, 'block %d' % number
    print('docs/mechanics.md ran in %.1f s' % (time.time() - started))
