"""The bad-input sweep at ``amadeus play`` (timbre transfer): generated audio files, good,
odd and broken, each rendered as a user would. A refused file is one ``error:`` line naming
the file, exit code 2, no output written; the store and the recording are unchanged."""

from __future__ import annotations

import shutil

import pytest
import soundfile
from _bad_audio import audio_files
from _bad_input import SWEEP, count, run_cli, squash, tree_digest
from _perform_support import make_personality
from hypothesis import given, settings

pytestmark = pytest.mark.bad_input


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    root = tmp_path_factory.mktemp("play-home")
    make_personality(root, seed=0, reverb_seconds=0.05)
    return root / "home"


@settings(SWEEP, max_examples=70)
@given(case=audio_files())
def test_play_a_generated_recording(case, home, tmp_path, monkeypatch):
    count("amadeus play (audio)")
    monkeypatch.setenv("AMADEUS_HOME", str(home))
    name, data, must_fail = case
    shutil.rmtree(tmp_path / "in", ignore_errors=True)
    (tmp_path / "in").mkdir()
    source, out = tmp_path / "in" / name, tmp_path / "out.wav"
    source.write_bytes(data)
    out.unlink(missing_ok=True)
    before = tree_digest(home, source)

    code, printed = run_cli(["play", "--deu", "cello", str(source), "-o", str(out)])

    assert "Traceback" not in printed
    assert tree_digest(home, source) == before
    if code == 0:
        assert not must_fail, f"{name}: played, but it must be refused\n{printed}"
        audio, _ = soundfile.read(str(out))
        assert audio.ndim == 1 and audio.size > 0
        return
    assert code == 2, printed
    assert printed.startswith("error: ") and squash(str(source)) in squash(printed), printed
    assert not out.exists()
