"""The README matches the command line and CI."""
import pathlib
import re

import art.cli

ROOT = pathlib.Path(__file__).resolve().parents[1]
README = (ROOT / 'README.md').read_text()


def parser_flags():
    return {option for action in art.cli.build_parser()._actions  # pylint: disable=protected-access
            for option in action.option_strings if option.startswith('--') and option != '--help'}


def test_readme_documents_every_flag_and_no_other():
    documented = set(re.findall(r'`(--[a-z0-9-]+)', README))
    assert documented == parser_flags()


def test_ci_runs_the_readme_commands():
    setup = re.search(r'## Set up\s+```sh\n(.*?)```', README, re.S).group(1).split('\n')[:2]
    ci = (ROOT / '.ci' / 'run').read_text()
    install, test = setup
    assert install == "pip install -e '.[test]'"
    assert "python -m pip install --quiet --disable-pip-version-check -e '.[test]'" in ci
    assert ci.rstrip().splitlines()[-1] == test
