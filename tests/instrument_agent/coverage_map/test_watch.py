"""Warnings when a performance leaves the coverage map: exactly on the outside notes, once per
phrase and kind, offline (``amadeus play``, a real subprocess) and note by note."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import mido
import pytest
from _coverage_support import practised_map, practised_personality
from _perform_support import write_midi

from instrument_agent.coverage_map import CoverageWatch, practised_region
from instrument_agent.midi.mapping import ControlMapping
from instrument_agent.profiles import default_player_profile

INSIDE = {"C4", "C#4", "D4", "E4", "F4", "G4", "C5", "D5"}  # practised, or a hole of ≤ 2 semitones


@pytest.fixture(scope="module")
def practised():
    coverage, loudest = practised_map()
    return coverage, loudest, ControlMapping.from_profile(default_player_profile(), loudest)


def test_the_map_holds_the_practised_notes_and_dynamics(practised):
    coverage, loudest, _ = practised
    region = practised_region(coverage)
    assert (region.lowest, region.highest) == (60, 74)
    assert [n for n in range(60, 75) if not region.notes[n]] == [68, 69, 70, 71]  # G#4..B4: the gap
    assert -36 <= region.loudness_low_db <= -30 and -12 <= region.loudness_high_db <= 0
    assert region.loudness_high_db - 3 >= loudest - 5


def _notes(watch, notes, start=0.0, velocity=100, step=0.5):
    raised = []
    for i, note in enumerate(notes):
        t = start + i * step
        raised += watch.note_on(note, velocity, t)
        watch.note_off(note, t + 0.4)
    return raised


def test_each_kind_warns_once_per_phrase_naming_every_outside_note(practised):
    coverage, _, mapping = practised
    watch = CoverageWatch(coverage, mapping)
    assert _notes(watch, [60, 62, 64, 65, 67, 61, 72, 74]) == []  # all inside (61: a filled hole)
    first = _notes(watch, [76, 79, 55, 70, 77], start=4.0, step=0.5)  # < 2 s after the last note: same phrase
    assert [(w.kind, w.phrase) for w in first] == [("pitch-high", 1), ("pitch-low", 1), ("pitch-gap", 1)]
    assert [w.message for w in watch.warnings] == [
        "notes above D5 were never practised: E5, G5, F5",
        "notes below C4 were never practised: G3",
        "notes between G4 and C5 were never practised: A#4",
    ]
    # After 2 s of silence a new phrase: the same kinds warn again, once.
    again = _notes(watch, [79, 81, 60], start=9.0)
    assert [(w.kind, w.phrase) for w in again] == [("pitch-high", 2)]  # G5 raised it; A5 joined it
    assert again[0] is watch.warnings[-1] and again[0].notes == ["G5", "A5"] and len(watch.warnings) == 4
    # Too soft: velocity 1 lies 30 dB under a full-velocity note, below the practised dynamics.
    (soft,) = _notes(watch, [62], start=20.0, velocity=1)
    assert soft.kind == "loudness-low" and soft.notes[0].startswith("D4 (velocity 1, ")
    assert _notes(watch, [62, 64], start=20.5, velocity=100) == []


def test_no_map_no_warnings():
    watch = CoverageWatch(None)
    assert not watch.active and _notes(watch, [0, 60, 127]) == []


def _amadeus(*args, home):
    env = {**os.environ, "AMADEUS_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "instrument_agent.cli", *args], capture_output=True, text=True, env=env, timeout=180
    )


def test_amadeus_play_warns_exactly_on_the_notes_outside_the_map(tmp_path):
    (tmp_path / "p").mkdir()
    practised_personality(tmp_path / "p")  # commits "cello" v1 to tmp_path/p/home
    m = mido.Message
    # Phrase 1 (0-4 s): inside notes, two above the map, one below, one in the gap, all at velocity 100.
    # 3 s of rest, then phrase 2: one above again, and a note played too softly.
    played = [(60, 100), (76, 100), (64, 100), (79, 100), (55, 100), (70, 100), (67, 100)]
    track = []
    for i, (note, velocity) in enumerate(played):
        track += [
            m("note_on", note=note, velocity=velocity, time=0 if i == 0 else 120),
            m("note_off", note=note, time=360),
        ]
    track += [m("note_on", note=62, velocity=100, time=2880), m("note_off", note=62, time=360)]
    track += [m("note_on", note=81, velocity=100, time=120), m("note_off", note=81, time=360)]
    track += [m("note_on", note=64, velocity=1, time=240), m("note_off", note=64, time=360)]
    midi = write_midi(tmp_path / "phrase.mid", [track])
    result = _amadeus(
        "play", "--deu", "cello", str(midi), "-o", str(tmp_path / "out.wav"), home=tmp_path / "p" / "home"
    )
    assert result.returncode == 0, result.stderr
    warnings = [
        re.sub(r"\s+", " ", w) for w in re.findall(r"warning: (.*?\(phrase \d+, at [\d.]+ s\))", result.stderr, re.S)
    ]
    assert warnings[:4] == [
        "notes above D5 were never practised: E5, G5 (phrase 1, at 0.5 s)",
        "notes below C4 were never practised: G3 (phrase 1, at 2.0 s)",
        "notes between G4 and C5 were never practised: A#4 (phrase 1, at 2.5 s)",
        "notes above D5 were never practised: A5 (phrase 2, at 6.9 s)",
    ]
    assert len(warnings) == 5 and re.fullmatch(
        r"dynamics softer than -\d+ dB were never practised: E4 \(velocity 1, -\d+ dB\) \(phrase 2, at 7.5 s\)",
        warnings[4],
    )
    named = {name for w in warnings for name in re.findall(r"\b[A-G]#?\d\b", w.split(":")[1])}
    assert named == {"E5", "G5", "G3", "A#4", "A5", "E4"} and not named & (INSIDE - {"E4"})


def test_amadeus_play_of_a_recording_warns_on_its_notes_outside_the_map(tmp_path):
    """Timbre transfer: the recording's tracked notes (as shifted) are checked; one phrase here."""
    import soundfile
    from _coverage_support import SR, practice_audio

    (tmp_path / "p").mkdir()
    practised_personality(tmp_path / "p")
    recording = tmp_path / "humming.wav"
    soundfile.write(str(recording), practice_audio(notes=(62, 79, 64), levels=(0.3,)), SR)
    home = tmp_path / "p" / "home"
    result = _amadeus("play", "--deu", "cello", str(recording), "-o", str(tmp_path / "out.wav"), home=home)
    assert result.returncode == 0, result.stderr
    warnings = re.findall(r"warning: (.*?) \(phrase", " ".join(result.stderr.split()))
    assert warnings == ["notes above D5 were never practised: G5"]
    # An octave down, every note lies inside... except D4 − 12 = D3 and E4 − 12 = E3, below C4; G5 − 12 = G4 inside.
    result = _amadeus(
        "play", "--deu", "cello", str(recording), "-o", str(tmp_path / "o2.wav"), "--octave-shift", "-1", home=home
    )
    warnings = re.findall(r"warning: (.*?) \(phrase", " ".join(result.stderr.split()))
    assert warnings == ["notes below C4 were never practised: D3, E3"]
