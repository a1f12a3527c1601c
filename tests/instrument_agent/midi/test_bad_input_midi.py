"""The bad-input sweep at ``amadeus play`` with MIDI files: generated files (melodies, 2 000-note
chords, a note after a gap of hours, 0 ticks per beat, zero tracks, truncations, running-status
garbage, random bytes, flipped bytes). A refused file is one ``error:`` line naming the file and
exit code 2, with no output written and nothing allocated for hours of audio; the store and the
MIDI file are unchanged."""

from __future__ import annotations

import resource
import shutil

import pytest
import soundfile
from _bad_input import SWEEP, count, run_cli, squash, tree_digest
from _bad_midi import midi_files
from _perform_support import make_personality
from hypothesis import given, settings

pytestmark = pytest.mark.bad_input


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    root = tmp_path_factory.mktemp("midi-home")
    make_personality(root, seed=1, reverb_seconds=0.05)
    return root / "home"


@settings(SWEEP, max_examples=70)
@given(case=midi_files())
def test_play_a_generated_midi_file(case, home, tmp_path, monkeypatch):
    count("amadeus play (MIDI)")
    monkeypatch.setenv("AMADEUS_HOME", str(home))
    name, data, expected = case
    shutil.rmtree(tmp_path / "in", ignore_errors=True)
    (tmp_path / "in").mkdir()
    source, out = tmp_path / "in" / name, tmp_path / "out.wav"
    source.write_bytes(data)
    out.unlink(missing_ok=True)
    before = tree_digest(home, source)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    code, printed = run_cli(["play", "--deu", "cello", str(source), "-o", str(out), "--sample-rate", "16000"])

    assert "Traceback" not in printed
    assert tree_digest(home, source) == before
    # Never an unbounded allocation: the process's peak grows by less than 1 GiB for any case.
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_kib < 1 << 20
    if code == 0:
        assert expected != "refused", f"{name}: played, but it must be refused\n{printed}"
        audio, _ = soundfile.read(str(out))
        assert audio.ndim == 1 and 0 < audio.size < 16000 * 60
        return
    assert expected != "plays", f"{name}: refused, but it must play\n{printed}"
    assert code == 2, printed
    assert printed.startswith("error: ") and squash(str(source)) in squash(printed), printed
    assert not out.exists()
    if name == "gap.mid":
        assert "limit" in printed
