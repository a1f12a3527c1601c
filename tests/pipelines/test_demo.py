"""The demo's material: the bowed-string voice, scores, the bundled phrase, soundfonts;
and (when the DDSP core is installed) the whole demo flow."""

from __future__ import annotations

import mido
import numpy as np
import pytest

from instrument_agent import features
from pipelines.demo import (
    PHRASE_PATH,
    body_gain_db,
    bowed_string,
    fluidsynth_available,
    phrase_notes,
    practice_score,
    render_with_soundfont,
    write_midi,
    write_phrase,
)


def test_score_covers_range_and_dynamics_and_fills_the_time():
    notes = practice_score(60.0, low=50, high=79, seed=3)
    assert notes[-1].end_s < 60.0 and notes[-1].end_s > 50.0
    pitches = [n.pitch for n in notes]
    assert min(pitches) >= 50 and max(pitches) <= 79 and max(pitches) - min(pitches) >= 20
    assert min(n.dynamic for n in notes) < 0.3 and max(n.dynamic for n in notes) > 0.8
    assert all(a.end_s <= b.start_s + 1e-9 for a, b in zip(notes, notes[1:], strict=False))
    assert practice_score(60.0, seed=3) == practice_score(60.0, seed=3)


def test_bowed_string_plays_the_score_in_tune_with_dynamics():
    sr = 16000
    notes = practice_score(8.0, seed=5)
    audio = bowed_string(notes, sr, seed=5)
    assert audio.dtype == np.float32 and np.abs(audio).max() == pytest.approx(10 ** (-3 / 20), rel=1e-3)
    f0, confidence = features.compute_f0(audio, sr, 50, method="yin")
    loudness = features.compute_loudness(audio, sr, 50)
    for note in notes:
        if note.end_s - note.start_s < 0.4:
            continue
        middle = slice(int((note.start_s + 0.15) * 50), int((note.start_s + 0.3) * 50))
        cents = 1200 * np.log2(np.median(f0[middle]) / note.f0_hz)
        assert abs(cents) < 30, (note, cents)
        assert np.median(confidence[middle]) > 0.8
    assert loudness.max() - np.percentile(loudness[loudness > -70], 10) > 10.0


def test_body_resonances_shape_the_spectrum():
    gains = body_gain_db(np.array([275.0, 360.0, 2400.0, 8000.0]))
    assert gains[0] > gains[1] + 3  # the air mode stands out
    assert gains[2] > 3 and gains[3] < -5


def test_bundled_phrase_is_current_and_in_the_training_range(tmp_path):
    regenerated = write_phrase(tmp_path / "phrase.mid")
    assert regenerated.read_bytes() == PHRASE_PATH.read_bytes()
    midi = mido.MidiFile(str(PHRASE_PATH))
    ons = [m for m in midi if m.type == "note_on" and m.velocity > 0]
    assert len(ons) == len(phrase_notes()) and 15.0 < midi.length < 30.0
    assert all(50 <= m.note <= 79 for m in ons)


@pytest.mark.skipif(not fluidsynth_available(), reason="Debian's fluidsynth is not installed")
def test_soundfont_render_of_a_generated_score(tmp_path):
    import soundfile

    midi = write_midi(practice_score(4.0, low=60, high=72, seed=2), tmp_path / "s.mid", program=71, expression=True)
    wav = render_with_soundfont(midi, "TimGM6mb", tmp_path / "s.wav", sample_rate=16000)
    audio, sr = soundfile.read(str(wav))
    assert sr == 16000 and audio.shape[0] > 3.5 * sr and np.abs(audio).max() > 0.01


@pytest.mark.slow
def test_demo_flow_tiny(tmp_path):
    import soundfile

    from pipelines.demo import run_demo

    result = run_demo(tmp_path / "demo.wav", minutes=0.25, steps=10, home=tmp_path / "home", progress=False)
    audio, sr = soundfile.read(str(result.out))
    assert sr == 48000 and audio.shape[0] > 15 * sr
    assert {"eval/spectral_loss", "baseline/sine", "baseline/harmonic_1_over_k"} <= set(result.metrics)
