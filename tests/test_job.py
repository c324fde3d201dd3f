"""The Job: resolved from flags, validated in one place, frozen, and round-tripped through JSON."""
import dataclasses
import json
import os
import sys

import pytest

import art
import art.app.cli
from art.engine import costs
from art import examples
from art.constants import LBFGS_HISTORY, LBFGS_STATE_LIMIT, MIN_LBFGS_HISTORY, OBJECTIVE_WEIGHTS
from art.app.job import Job, JobError
from art.app.resolving import resolve
from art.app.settings import SETTING
from art.app.job_files import check_files


def flags(*argv):
    return art.app.cli.job_settings(art.app.cli.build_parser().parse_args([str(a) for a in argv]))


def small_job(tmp_path, **changes):
    values = dict(content=examples.CONTENT, style=[examples.STYLE], output=tmp_path / 'o.png',
                  width=40, height=30, seed=1, iterations=3)
    values.update(changes)
    return Job(**values)


def test_resolve_fills_every_setting_with_a_concrete_value():
    job = resolve(flags())
    assert (job.width, job.height, job.iterations) == (art.IMAGE_WIDTH, art.IMAGE_HEIGHT, 1000)
    assert isinstance(job.seed, int) and 0 <= job.seed < 2**32
    assert job.content == examples.CONTENT and job.style == (examples.STYLE,)
    assert job.style_blend_weights == (1.0,) and job.scales == (1.0,)
    # None only where a setting is not asked for: declared None, and none the Job derives.
    derived = ('iterations', 'frame_iterations', 'lbfgs_history', 'style_blend_weights',
               'content_weight', 'style_weight', 'temporal_weight')
    assert all(value is not None for name, value in dataclasses.asdict(job).items()
               if SETTING[name].default is not None or name in derived)
    assert resolve(flags('--optimizer', 'adam')).iterations == art.ITERATIONS
    # Two runs without --seed draw their own seed; with it, they agree.
    assert len({resolve(flags()).seed for _ in range(4)}) > 1
    assert resolve(flags('--seed', 5)).seed == 5


def test_the_objective_gives_the_weights_not_given_and_old_records_are_art_py():
    job = resolve(flags())
    assert job.objective == 'relative'
    assert {name: getattr(job, name) for name in OBJECTIVE_WEIGHTS['relative']} == \
        OBJECTIVE_WEIGHTS['relative']
    job = resolve(flags('--objective', 'art.py'))
    assert (job.content_weight, job.style_weight, job.temporal_weight) == (5, 100, 1000)
    assert job.painting_options()['normalization'] == 'art.py'
    given = resolve(flags('--objective', 'art.py', '--style-weight', 7))
    assert (given.content_weight, given.style_weight) == (5, 7)
    # A record written before --objective existed painted art.py's objective.
    values = resolve(flags()).to_dict()
    del values['objective']
    assert Job.from_dict(values).objective == 'art.py'


def test_one_side_follows_the_content_aspect_ratio():
    # The example content is 400x300.
    assert resolve(flags('--width', 40)).size == (30, 40)
    assert resolve(flags('--height', 60)).size == (60, 80)
    assert resolve(flags('--width', 7, '--height', 9)).size == (9, 7)


def test_lbfgs_history_shrinks_at_print_sizes_to_bound_its_state():
    assert resolve(flags()).lbfgs_history == LBFGS_HISTORY
    big = resolve(flags('--width', 3200, '--height', 2400)).lbfgs_history
    # As many pairs as keep L-BFGS's state within the limit...
    assert costs.optimizer_bytes(2400, 3200, big) <= LBFGS_STATE_LIMIT \
        < costs.optimizer_bytes(2400, 3200, big + 1)
    assert MIN_LBFGS_HISTORY < big < LBFGS_HISTORY
    # ...but never fewer than the minimum.
    assert resolve(flags('--width', 4000, '--height', 3000)).lbfgs_history \
        == MIN_LBFGS_HISTORY
    asked = resolve(flags('--width', 4000, '--height', 3000, '--lbfgs-history', 20))
    assert asked.lbfgs_history == 20


def test_a_job_made_in_python_derives_what_the_command_line_derives(tmp_path):
    """The derived defaults live in the Job: Job(...) and run_art.py agree."""
    job = small_job(tmp_path, iterations=None, width=4000, height=3000)
    line = resolve(flags('--width', 4000, '--height', 3000, '--seed', 1, '--output',
                         tmp_path / 'o.png'))
    for name in ('iterations', 'frame_iterations', 'lbfgs_history', 'style_blend_weights',
                 'content_weight', 'style_weight', 'temporal_weight'):
        assert getattr(job, name) == getattr(line, name), name
    assert job.lbfgs_history == MIN_LBFGS_HISTORY and job.frame_iterations == 500
    adam = small_job(tmp_path, iterations=None, optimizer='adam')
    assert (adam.iterations, adam.frame_iterations) == (art.ITERATIONS, art.ITERATIONS // 2)


def test_every_setting_is_declared_once_for_the_job_and_the_command_line():
    """The Job's fields and the parser's painting flags are art.app.settings' SETTINGS."""
    from art.app.settings import SETTINGS  # pylint: disable=import-outside-toplevel
    assert [field.name for field in dataclasses.fields(Job)] \
        == [setting.name for setting in SETTINGS if setting.job]
    actions = {action.dest: action for action in art.app.cli.build_parser()._actions}  # pylint: disable=protected-access
    for setting in SETTINGS:
        action = actions[setting.name]
        assert action.option_strings == [setting.flag] and action.help, setting.name
        assert action.choices == setting.choices and action.default is None, setting.name


def test_paths_are_absolute_so_a_record_names_its_files_from_anywhere(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    job = resolve(flags('--output', 'out/p.png', '--loss-log', 'l.csv', '--width', 8))
    assert job.output == str(tmp_path / 'out' / 'p.png')
    assert job.loss_log == str(tmp_path / 'l.csv')
    assert job.record_path == str(tmp_path / 'out' / 'p.json')
    assert job.checkpoint_path(7) == str(tmp_path / 'out' / 'p-7.png')
    assert job.weights == str(tmp_path / 'weights' / art.VGG_MODEL)
    assert resolve(flags('--weights', 'synthetic', '--width', 8)).weights == 'synthetic'


def test_a_job_is_frozen_and_round_trips_through_json(tmp_path):
    job = small_job(tmp_path, style=[examples.STYLE, examples.CONTENT],
                    style_blend_weights=[3, 1], scales=[0.5, 1],
                    content_layers=[('conv4_2', 0.3), ('conv5_2', 0.7)])
    with pytest.raises(dataclasses.FrozenInstanceError):
        job.width = 5
    again = Job.from_dict(json.loads(json.dumps(job.to_dict())))
    assert again == job
    assert again.content_layers == (('conv4_2', 0.3), ('conv5_2', 0.7))
    with pytest.raises(JobError, match="unknown setting 'colour'"):
        Job.from_dict(dict(job.to_dict(), colour='red'))
    values = job.to_dict()
    del values['seed']
    with pytest.raises(JobError, match='seed'):
        Job.from_dict(values)


@pytest.mark.parametrize('changes,message', [
    (dict(width=0), '--width: 0 must be > 0'),
    (dict(iterations=2.5), '--iterations: 2.5 is not a whole number'),
    (dict(seed=-1), '--seed: -1 must be >= 0'),
    (dict(noise_ratio=1.5), '--noise-ratio: 1.5 must be >= 0 and <= 1'),
    (dict(style_weight=float('nan')), '--style-weight: nan must be >= 0'),
    (dict(optimizer='sgd'), "--optimizer: 'sgd' is not one of lbfgs, adam"),
    (dict(pooling='min'), "--pooling: 'min' is not one of avg, max"),
    (dict(init='image'), '--init image needs --init-image PATH'),
    (dict(init_image=examples.STYLE), '--init-image is used with --init image only'),
    (dict(style_blend_weights=(1, 2)), '--style-blend-weights gives 2 weights for 1 style'),
    (dict(style_blend_weights=(0,)), '--style-blend-weights are all zero'),
    (dict(scales=(1, 0.5)), '--scales must increase and end at 1'),
    (dict(style_layers=(('conv9_1', 1),)), "unknown layer 'conv9_1'"),
    (dict(content_layers=(('conv4_2', -1),)), '--content-layers: -1 must be >= 0'),
    (dict(style=()), '--style: give at least one style image'),
])
def test_bad_values_are_job_errors_naming_the_setting(tmp_path, changes, message):
    with pytest.raises(JobError, match=message.replace('(', r'\(').replace(')', r'\)')):
        small_job(tmp_path, **changes)
    assert issubclass(JobError, ValueError)


def test_the_command_line_and_the_job_share_one_bound(tmp_path):
    """A bound is written once (art.app.job.BOUNDS): the parser's message is the Job's."""
    with pytest.raises(SystemExit):
        art.app.cli.build_parser().parse_args(['--noise-ratio', '2'])
    with pytest.raises(JobError, match='2.0 must be >= 0 and <= 1'):
        small_job(tmp_path, noise_ratio=2.0)


def test_check_files_names_the_file_and_what_is_wrong(tmp_path):
    folder = tmp_path / 'weights-folder'
    folder.mkdir()
    with pytest.raises(JobError, match='is a folder, not a weights file'):
        check_files(small_job(tmp_path, weights=folder))
    empty = tmp_path / 'empty.mat'
    empty.write_bytes(b'')
    with pytest.raises(JobError, match=r'empty.mat: is an empty file \(0 bytes\)'):
        check_files(small_job(tmp_path, weights=empty))
    with pytest.raises(JobError, match='output .* is the content image'):
        check_files(small_job(tmp_path, output=examples.CONTENT))
    with pytest.raises(art.ImageError, match="cannot write images of type '.xyz'"):
        check_files(small_job(tmp_path, output=tmp_path / 'o.xyz'))
    check_files(small_job(tmp_path, weights='synthetic'))


def test_the_command_line_hands_on_a_job_never_its_namespace(monkeypatch, tmp_path):
    received = []
    monkeypatch.setattr('art.app.runner.run', lambda job, say, **kw: received.append(job) or 0)
    monkeypatch.chdir(tmp_path)
    assert art.app.cli.main(['--weights', 'synthetic', '--width', '8', '--seed', '2']) == 0
    assert [type(job) for job in received] == [Job]
    assert received[0].seed == 2 and received[0].size == (6, 8)


def test_job_module_does_not_import_tensorflow():
    code = ('import sys, art.app.job, art.app.cli, art.app.runner, art.app.record, art.app.verification, art.engine.crops; '
            'print("tensorflow" in sys.modules)')
    result = os.popen('%s -c %r' % (sys.executable, code)).read().strip()
    assert result == 'False'


def test_a_jobs_input_pictures_are_listed_and_moved_in_one_place(tmp_path):
    """Job.input_pictures: every picture the Job reads, masks and init image too, with the
    setting naming it; with_pictures_moved maps those paths and no other."""
    names = ('c.png', 's1.png', 's2.png', 'i.png', 'm1.png', 'm2.png')
    job = Job(content='c.png', style=('s1.png', 's2.png'), init='image', init_image='i.png',
              style_masks=('m1.png', 'm2.png'), output='out.png', loss_log='log.csv',
              width=8, height=8, seed=0, iterations=1)
    listed = job.input_pictures()
    assert [os.path.basename(path) for _, path in listed] == list(names)
    assert [setting.noun for setting, _ in listed] == [
        'content image', 'style image', 'style image', 'init image', 'style mask', 'style mask']
    moved = job.with_pictures_moved(lambda path: str(tmp_path / os.path.basename(path)))
    assert [path for _, path in moved.input_pictures()] == [str(tmp_path / name)
                                                            for name in names]
    assert (moved.output, moved.loss_log, moved.style_image_masks) == (
        job.output, job.loss_log, ())
