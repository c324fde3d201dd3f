"""The README and docs/ match the command line, CI and bench/RESULTS.md."""
import os
import pathlib
import re
import shlex

import pytest

import art.app.cli
from art import examples
from art.app.resolving import resolve
from art.io import video

ROOT = pathlib.Path(__file__).resolve().parents[1]
README = (ROOT / 'README.md').read_text()
DOCUMENTS = [ROOT / 'README.md'] + sorted((ROOT / 'docs').glob('*.md'))


def parser_flags():
    return {option for action in art.app.cli.build_parser()._actions  # pylint: disable=protected-access
            for option in action.option_strings if option.startswith('--') and option != '--help'}


def test_the_flag_reference_is_current_and_the_readme_names_no_other_flag():
    """docs/cli.md is generated from the settings; every flag a document names exists."""
    import art.app.arguments  # pylint: disable=import-outside-toplevel
    reference = (ROOT / 'docs' / 'cli.md').read_text()
    assert reference == art.app.arguments.reference(), \
        'docs/cli.md is out of date: python -m art.app.arguments > docs/cli.md'
    assert set(re.findall(r'`(--[a-z0-9-]+)', reference)) == parser_flags()
    # The README's flag rows and every run_art.py command in the documents name real flags.
    for document in (path.read_text() for path in DOCUMENTS):
        lines = [line for line in document.splitlines()
                 if 'run_art.py' in line or line.startswith('| `--')]
        named = set(re.findall(r'(--[a-z][a-z0-9-]+)', '\n'.join(lines)))
        assert named <= parser_flags() | {'--help'}, named - parser_flags()


def test_no_help_text_or_readme_line_asks_to_retune_a_weight():
    """Every control's default weight is measured (bench/quality.py): none is left to the user."""
    text = (art.app.cli.build_parser().format_help() + README).lower()
    assert 'retun' not in text and 're-tun' not in text


def test_ci_runs_the_readme_commands():
    setup = re.search(r'## Install and test\s+```sh\n(.*?)```', README, re.S).group(1).split('\n')[:2]
    ci = (ROOT / '.ci' / 'run').read_text()
    install, test = setup
    assert install == "pip install -e '.[test]'"
    assert "python -m pip install --quiet --disable-pip-version-check -e '.[test]'" in ci
    assert ci.rstrip().splitlines()[-1] == test


def test_public_api_docstrings_cite_the_paper():
    import art
    cites = {'content_layer_loss': ['eq. 1', '1/(4NM)', '1/2'],
             'content_loss_func': ['eq. 1', '1/(4NM)', '1/2'],
             'gram_matrix': ['eq. 3'],
             'style_layer_loss': ['eq. 4'],
             'style_loss_func': ['eq. 5', '0.5, 1, 1.5, 3, 4', 'equally'],
             'total_loss_func': ['eq. 7'],
             'load_vgg_model': ['as stored', 'mirrors']}
    for name, phrases in cites.items():
        doc = getattr(art, name).__doc__.lower()
        for phrase in phrases:
            assert phrase.lower() in doc, (name, phrase)


def test_packaging_depends_on_tensorflow_with_a_gpu_extra():
    """The full `tensorflow` package (tensorflow-cpu cannot be combined with a GPU build)
    and an extra `gpu` that brings CUDA through tensorflow[and-cuda]."""
    import importlib.metadata
    requires = importlib.metadata.requires('art')
    names = [re.split(r'[<>=;\[ ]', requirement)[0] for requirement in requires]
    assert 'tensorflow' in names and 'tensorflow-cpu' not in names
    assert any(requirement.startswith('tensorflow[and-cuda]') and 'extra == "gpu"' in requirement
               for requirement in requires)
    assert 'threadpoolctl' in names


def test_the_project_has_a_licence_in_its_metadata():
    import importlib.metadata
    assert (ROOT / 'LICENSE').read_text().startswith('MIT License')
    assert importlib.metadata.metadata('art')['License'] == 'MIT'


def test_the_readme_is_short_and_starts_with_a_painting():
    lines = README.splitlines()
    assert len(lines) <= 250, len(lines)
    first_text = next(line for line in lines[1:] if line.strip())
    assert first_text.startswith('![') and 'docs/figures/' in first_text


def slug(heading):
    """GitHub's anchor for a Markdown heading."""
    text = re.sub(r'[^\w\- ]', '', heading.strip('# ').strip().lower())
    return text.replace(' ', '-')


def anchors(path):
    fenced, found = False, set()
    for line in path.read_text().splitlines():
        fenced ^= line.startswith('```')
        if not fenced and line.startswith('#'):
            found.add(slug(line))
    return found


def test_every_link_in_the_documents_resolves():
    """Every relative link names a file that exists and, after #, one of its headings."""
    for path in DOCUMENTS:
        for target in re.findall(r'\]\(([^)\s]+)\)', path.read_text()):
            if re.match(r'[a-z]+:', target):
                continue
            name, _, anchor = target.partition('#')
            linked = (path.parent / name).resolve() if name else path
            assert linked.exists(), (path.name, target)
            if anchor:
                assert anchor in anchors(linked), (path.name, target)


def documented_commands():
    """Every `python run_art.py ...` line of a code block in README.md and docs/, with
    its continuation lines, as (document, arguments)."""
    found = []
    for path in DOCUMENTS:
        lines = iter(path.read_text().splitlines())
        for line in lines:
            if not line.strip().startswith('python run_art.py'):
                continue
            while line.endswith('\\'):
                line = line[:-1] + next(lines)
            found.append((path.name, shlex.split(line.split(' # ')[0].split('run_art.py', 1)[1])))
    return found


def here_or_example(path, example):
    return path if path and os.path.exists(path) else example


@pytest.mark.parametrize('document, arguments', documented_commands(),
                         ids=lambda value: ' '.join(value) if isinstance(value, list) else value)
def test_every_documented_command_is_a_valid_job(document, arguments):
    """The command parses, its modes combine, and (where it paints a picture) its Job
    resolves: every value within its bounds and choices. Pictures the command names that are
    not here (a user's photo.jpg) are replaced by the examples; a clip is parsed only."""
    try:
        args = art.app.cli.build_parser().parse_args(arguments)
    except SystemExit:
        pytest.fail('%s: run_art.py %s does not parse' % (document, ' '.join(arguments)))
    art.app.cli.check_modes(args)
    clip = args.content and (video.is_clip(args.content) or args.content.endswith('/'))
    if args.replay or args.verify or args.batch or clip:
        return
    settings = art.app.cli.job_settings(args)
    settings['content'] = here_or_example(args.content, examples.CONTENT)
    settings['style'] = [here_or_example(path, examples.STYLE) for path in args.style or ()] or None
    assert resolve(settings).iterations >= 1


def test_the_readmes_figures_are_those_of_the_current_table():
    """Every number in the README's "How long" table is in bench/RESULTS.md's current
    figures (the table the README quotes)."""
    section = re.search(r'## How long will it take\n(.*?)\n## ', README, re.S).group(1)
    results = (ROOT / 'bench' / 'RESULTS.md').read_text()
    current = re.search(r'## Current figures\n(.*?)\n## ', results, re.S).group(1)
    rows = [line for line in section.splitlines() if line.startswith('| ') and 's |' in line]
    assert rows
    for row in rows:
        for number in re.findall(r'\d+(?:\.\d+)?', row.split('|', 2)[2]):
            assert re.search(r'(?<![\d.])%s(?![\d.])' % re.escape(number), current), (row, number)
