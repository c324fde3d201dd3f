"""run_art.py's flags: the parser, each flag's type, bounds and help, and the Job
settings read from parsed flags. The command line (art.app.cli) and a batch's lines
(art.app.batch) read them alike.
"""
import argparse
import functools

from art.app.job import check_number
from art.app.errors import EXIT_USAGE
from art.app.preview import address
from art.app.settings import GROUPS, INPUT_PATHS, SETTING, SETTINGS, flag
from art.app.verification import IMAGE_TOLERANCE, LOSS_TOLERANCE


def _parse(setting):
    """An argparse type for `setting`'s values: split (--frames FIRST:LAST), then each part
    parsed and bounded by art.app.job.check_number."""
    def check(text):
        return None if text is None else check_number(setting.name, text)

    def parse(text):
        try:
            return (tuple(check(part) for part in setting.split(text)) if setting.split
                    else check(text))
        except ValueError as error:
            raise argparse.ArgumentTypeError(
                '%s (give %s)' % (error, setting.metavar) if setting.split else str(error)
            ) from None
    return parse


def _positive(kind):
    """An argparse type for a mode's own number: `kind`, greater than 0."""
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError('%r is not a %s' % (text, kind.__name__)) from None
        if not value > 0:
            raise argparse.ArgumentTypeError('%s must be > 0' % text)
        return value
    return parse


def add_setting(group, setting):
    """`setting`'s flag: None unless given (the Job fills in the default, and --replay can
    tell which flags were given)."""
    text = setting.help.replace('%', '%%')  # argparse formats help with %
    if setting.kind is bool:
        group.add_argument(setting.flag, action='store_true', default=None, help=text)
        return
    group.add_argument(setting.flag, metavar=setting.metavar, choices=setting.choices,
                       type=_parse(setting) if setting.bounds else None,
                       nargs='+' if setting.many == '+' else None,
                       action='append' if setting.many == 'append' else 'store',
                       help=text)


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors in one line like every other error here."""

    def error(self, message):
        self.exit(EXIT_USAGE, '%s: error: %s (see --help)\n' % (self.prog, message))


def build_parser():
    """The command line's flags, each documented with its default.

    Painting flags default to None ("not given"): the Job fills in art.py's
    values, and --replay can tell which flags were given.
    """
    parser = _Parser(
        prog='run_art.py',
        description="Paint a content image in the style of another with log0's art.py "
                    "(Gatys et al., arXiv 1508.06576): VGG-19 in tf.compat.v1 graph mode. "
                    'Every run writes OUTPUT.json beside its image, a record that --replay '
                    'and --verify use.')
    groups = {title: parser.add_argument_group(title) for title in GROUPS}
    for setting in SETTINGS:
        add_setting(groups[setting.group], setting)

    modes = parser.add_argument_group('replay and verify')
    modes.add_argument('--replay', metavar='RECORD',
                       help='paint the job of a record (OUTPUT.json) again, by default to '
                            'OUTPUT-replay.EXT; inputs are checked against their SHA-256, and '
                            '%s point at moved files'
                            % '/'.join(flag(name) for name in INPUT_PATHS))
    modes.add_argument('--verify', metavar='RECORD',
                       help='replay a record in a temporary folder and compare losses, image '
                            'and environment; exit 0 within the tolerances, 1 outside')
    modes.add_argument('--loss-tolerance', metavar='F', type=_positive(float),
                       help='--verify: largest relative error of a loss (default: %g)'
                            % LOSS_TOLERANCE)
    modes.add_argument('--image-tolerance', metavar='N', type=_positive(int),
                       help='--verify: largest difference of a pixel, in levels of 255 '
                            '(default: %d)' % IMAGE_TOLERANCE)
    batches = parser.add_argument_group('batches and sweeps')
    batches.add_argument('--batch', metavar='JOBS',
                         help='paint many jobs: a JSON Lines file, each line an object of '
                              'these flags with underscores ({"style_weight": 1000}) and '
                              'optionally "name" and "sweep" ({"style_weight": [10, 100]}: '
                              'one job per value), or a folder of records to paint again; the '
                              'other flags given are defaults for every job. Jobs done earlier '
                              'in --out-dir are skipped')
    batches.add_argument('--out-dir', metavar='DIR',
                         help="--batch: where each job's files, summary.json and grid.png go")
    batches.add_argument('--ray', metavar='ADDRESS',
                         help="--batch: run each job as a task on a Ray cluster's node "
                              "(ADDRESS of a running cluster, or auto; pip install -e "
                              "'.[cluster]'), instead of one at a time here")
    parser.add_argument('--explain', action='store_true',
                        help='build the graph for these settings and describe it (the variable, '
                             'the captured constants, the op count, the losses, memory and '
                             'FLOPs) without optimizing or writing anything')
    parser.add_argument('--preview', metavar='[HOST:]PORT', type=_preview_address,
                        help='serve a live page of the run (the image, the loss curve, the '
                             'speed, Stop and Save now) at http://HOST:PORT/ with a token, '
                             'printed at the start; HOST defaults to 127.0.0.1, PORT 0 takes '
                             'a free port')
    parser.add_argument('--debug', action='store_true',
                        help='show a traceback on errors')
    return parser


def _usage(action):
    """`--flag VALUE` of an action as the reference names it."""
    if action.nargs == 0:
        return action.option_strings[0]
    value = action.metavar or '{%s}' % ','.join(action.choices)
    return '%s %s%s' % (action.option_strings[0], value, '...' if action.nargs == '+' else '')


def reference():
    """docs/cli.md: every flag of build_parser by group, with its help, as Markdown."""
    parser = build_parser()
    lines = ['# run_art.py: every flag', '',
             'Generated from the settings (art/app/settings.py) and the modes by',
             '`python -m art.app.arguments > docs/cli.md`; the suite checks that it is current.',
             '`python run_art.py --help` prints the same.', '']
    for group in parser._action_groups:  # pylint: disable=protected-access
        actions = [action for action in group._group_actions  # pylint: disable=protected-access
                   if action.option_strings != ['-h', '--help']]
        if not actions:
            continue
        lines += ['## ' + ('general' if group.title == 'options' else group.title), '',
                  '| flag | what it does |', '| --- | --- |']
        lines += ['| `%s` | %s |' % (_usage(action), action.help.replace('%%', '%').replace(
            '|', '\\|')) for action in actions]
        lines.append('')
    return '\n'.join(lines)


def _preview_address(text):
    try:
        return address(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def job_settings(args):
    """The painting's settings from parsed flags: {name: value or None}."""
    return {name: value for name, value in vars(args).items() if name in SETTING}


def settings_of(values):
    """The Job's settings from a batch line's {flag name: JSON value}, each value taken as
    the parser's own declaration of that flag takes it (type, bounds, choices, how many),
    without the line being turned back into argv. ValueError names the flag."""
    actions = _actions()
    given = {}
    for name, value in values.items():
        try:
            given[name] = None if value is None else _value_of(actions[name], value)
        except (argparse.ArgumentTypeError, ValueError, TypeError) as error:
            raise ValueError('argument %s: %s' % (flag(name), error)) from None
    return job_settings(argparse.Namespace(**given))


@functools.lru_cache(maxsize=1)
def _actions():
    """{setting: its argparse action} of build_parser's flags."""
    return {action.dest: action for action in build_parser()._actions}  # pylint: disable=protected-access


def _value_of(action, value):
    """`value` (JSON) as `action` (a flag of build_parser) takes its command-line text."""
    if action.nargs == 0:  # a switch (store_true)
        if not isinstance(value, bool):
            raise ValueError('expected true or false, not %r' % (value,))
        return True if value else None
    many = action.nargs is not None or isinstance(action, argparse._AppendAction)  # pylint: disable=protected-access
    if isinstance(value, list) and not many:
        raise ValueError('expected one value, not a list')
    parsed = []
    for item in value if isinstance(value, list) else [value]:
        item = action.type(str(item)) if action.type else str(item)
        if action.choices is not None and item not in action.choices:
            raise ValueError('invalid choice: %r (choose from %s)' % (
                item, ', '.join(repr(choice) for choice in action.choices)))
        parsed.append(item)
    return parsed if many else parsed[0]


if __name__ == '__main__':
    print(reference(), end='')
