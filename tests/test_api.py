"""art.paint: the command line's painting from Python, with the same settings and checks."""
import json
import pathlib

import numpy as np
import pytest
from PIL import Image

import art
from art import examples
from helpers import paint, run_document

DOC = pathlib.Path(__file__).resolve().parents[1] / 'docs' / 'python.md'
SETTINGS = dict(width=48, iterations=4, seed=3, style_weight=30.0, scales=[0.5, 1],
                color_control='histogram')


@pytest.fixture(name='small')
def small_settings(synthetic_files):
    """A small painting's settings, on the small generated network."""
    return dict(SETTINGS, weights=synthetic_files['new'])


def flags(settings):
    """`settings` as run_art.py's flags."""
    argv = []
    for name, value in settings.items():
        argv += ['--' + name.replace('_', '-')] + [str(item) for item in (
            value if isinstance(value, list) else [value])]
    return argv


def test_docs_python_runs_and_prints_what_it_says():
    assert run_document(DOC, {'__name__': 'python_doc'}) >= 3


def test_paint_gives_the_command_lines_pixels_losses_and_record(tmp_path, capsys, small):
    code, _, err = paint(capsys, *flags(small), '--output', tmp_path / 'cli.png')
    assert code == 0, err
    painted = art.paint(**small, output=str(tmp_path / 'api.png'))
    assert np.array_equal(painted.pixels, art.read_rgb(str(tmp_path / 'cli.png')))
    record = json.loads((tmp_path / 'cli.json').read_text())
    assert painted.total_loss == record['outcome']['total_loss'] and painted.status == 'done'
    ours = dict(painted.record['job'], output=None)
    assert ours == dict(record['job'], output=None)
    # Pictures given as arrays and PIL images paint the same as their files.
    pictures = art.paint(**dict(small, content=art.read_rgb(examples.CONTENT),
                                style=[Image.open(examples.STYLE)]))
    assert np.array_equal(pictures.pixels, painted.pixels) and pictures.output is None


def test_progress_sees_every_iteration_and_bad_settings_are_errors(tmp_path, small):
    steps = []
    art.paint(**dict(small, scales=[1]), progress=steps.append)
    assert [step.iteration for step in steps] == list(range(SETTINGS['iterations'] + 1))
    assert steps[-1].jpeg()[:2] == b'\xff\xd8'
    with pytest.raises(TypeError, match='colour'):
        art.paint(colour='red')
    with pytest.raises(art.JobError, match='--noise-ratio: 2.0 must be'):
        art.paint(noise_ratio=2.0, weights='synthetic')
    # A picture is never written over a file the user has.
    (tmp_path / 'p-inputs').mkdir()
    (tmp_path / 'p-inputs' / 'content.png').write_bytes(b'mine')
    with pytest.raises(art.JobError, match='there already'):
        art.paint(**dict(small, content=art.read_rgb(examples.CONTENT)),
                  output=str(tmp_path / 'p.png'))
    assert (tmp_path / 'p-inputs' / 'content.png').read_bytes() == b'mine'


def test_paint_paints_a_clip_into_a_folder_and_asks_for_an_output(tmp_path, small, clip_files):
    clip = dict(small, content=str(clip_files / 'frames'), style=str(clip_files / 'style.png'),
                scales=[1], frames=(1, 2), iterations=3, frame_iterations=2)
    with pytest.raises(art.JobError, match='give output='):
        art.paint(**clip)
    painted = art.paint(**clip, output=str(tmp_path / 'painted'))
    assert painted.pixels is None and painted.status == 'done'
    assert len(painted.record['frames']) == 2
    assert len(list((tmp_path / 'painted').glob('*.png'))) == 2
