"""The README matches the command line and CI."""
import pathlib
import re

import art.app.cli

ROOT = pathlib.Path(__file__).resolve().parents[1]
README = (ROOT / 'README.md').read_text()


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
    for document in [README] + [path.read_text() for path in (ROOT / 'docs').glob('*.md')]:
        lines = [line for line in document.splitlines()
                 if 'run_art.py' in line or line.startswith('| `--')]
        named = set(re.findall(r'(--[a-z][a-z0-9-]+)', '\n'.join(lines)))
        assert named <= parser_flags() | {'--help'}, named - parser_flags()


def test_no_help_text_or_readme_line_asks_to_retune_a_weight():
    """Every control's default weight is measured (bench/quality.py): none is left to the user."""
    text = (art.app.cli.build_parser().format_help() + README).lower()
    assert 'retun' not in text and 're-tun' not in text


def test_ci_runs_the_readme_commands():
    setup = re.search(r'## Set up\s+```sh\n(.*?)```', README, re.S).group(1).split('\n')[:2]
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
