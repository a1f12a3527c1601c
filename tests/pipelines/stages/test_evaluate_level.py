"""The level is right: the demo's practice (its 400 steps) on 48 s of its bowed string, then the
agent plays it (about 4 minutes here; a tinier practice's decoder barely follows its loudness input,
slope 0.3-0.5 dB/dB, so its level error moves by up to 7 dB from one phrase to the next and no
single calibration gain can hold ±1 dB: measured at 60-300 steps with 32-256 units).

* held-out resynthesis (phrases the practice never heard, their own f0 and loudness through the
  agent's engine) comes out at the recording's A-weighted level within ±1 dB, thanks to the
  level calibration the evaluate stage measured (uncalibrated, this tiny practice is far off);
* a MIDI render at velocity 100 sits at the training audio's typical loudness
  (``FeatureStats.loudness_db_typical``) within ±2 dB: the calibration is one gain for the whole
  clip, while a short practice's decoder does not follow the input loudness with a slope of
  exactly 1 and a MIDI note's flat loudness curve is not a bowed phrase's, so one more dB is
  allowed than for resynthesis;
* a bundle made before these fields (neither set) plays exactly as before: velocity 127 at the
  loudest training loudness, no gain.
"""

from __future__ import annotations

import mido
import numpy as np
import pytest
import soundfile

from instrument_agent.engine import Engine
from instrument_agent.features import compute_loudness
from instrument_agent.level import clip_level_db
from instrument_agent.midi import read_midi
from instrument_agent.personality.store import PersonalityStore
from instrument_agent.render import render_midi, render_midi_file, transfer_timbre_file
from pipelines.demo import DEMO_PROFILE, bowed_string, practice_score
from pipelines.practice import PracticeRequest, run_practice

SR = 16000
# The demo's practice, always its 400 steps: with the demo's 200 s budget a loaded machine stopped at
# 346 steps and the held-out error came to +0.95 dB, a hair inside the 1 dB bound.
LEVEL = dict(DEMO_PROFILE, f0_method="yin", preview_every=-1, max_train_seconds=0)
TRAIN_S, HELD_OUT_S = 48.0, 12.0
PITCHES = (55, 60, 64, 67, 72)


@pytest.fixture(scope="module")
def practised(tmp_path_factory):
    """(home, bundle, held-out recording): 60 s of the bowed string (notes 55..76); the demo's
    practice on the first 48 s; the last 12 s, which the practice never hears, held out."""
    root = tmp_path_factory.mktemp("level")
    audio = bowed_string(practice_score(TRAIN_S + HELD_OUT_S, low=55, high=76, seed=2), SR, seed=2)
    cut = int(TRAIN_S * SR)
    path = root / "violin.flac"
    soundfile.write(str(path), audio[:cut], SR, subtype="PCM_24")
    home = root / "home"
    result = run_practice("imitation", PracticeRequest("violin", audio=[path], learner_profile=LEVEL), home)
    return home, PersonalityStore(home).get("violin", result.version), audio[cut:]


def test_evaluation_measures_the_level_error_and_stores_its_calibration(practised):
    _, bundle, _ = practised
    stats, metrics = bundle.manifest.feature_stats, bundle.manifest.metrics
    assert abs(metrics["eval/level_error_calibrated_db"]) < abs(metrics["eval/level_error_db"])
    assert abs(stats.level_gain_db) > 1.0  # the demo's decoder is not at the recording's level by itself
    assert stats.loudness_db_max - 15 < stats.loudness_db_typical < stats.loudness_db_max
    assert metrics["eval/spectral_loss_calibrated"] < metrics["baseline/sine"]


def test_held_out_resynthesis_is_at_the_recordings_level(practised, tmp_path):
    _, bundle, recording = practised
    held_out = tmp_path / "held-out.wav"
    soundfile.write(str(held_out), recording, SR)
    out = tmp_path / "resynthesis.wav"
    transfer_timbre_file(bundle, held_out, out, sample_rate=SR, backend="numpy", show_progress=False)
    resynthesis, rate = soundfile.read(str(out), dtype="float32")
    assert rate == SR
    error = clip_level_db(resynthesis[: recording.size], SR) - clip_level_db(recording, SR)
    assert abs(error) <= 1.0, f"held-out resynthesis is {error:+.2f} dB off the recording's level"
    uncalibrated = error - bundle.manifest.feature_stats.level_gain_db
    assert abs(uncalibrated) > 1.0  # without the calibration the same render misses


def _notes_at(path, velocity: int, seconds: float = 1.2, gap: float = 0.4):
    """One track of PITCHES, each held ``seconds`` at ``velocity``; returns (path, [(start, end) s])."""
    midi = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack()
    midi.tracks.append(track)
    track.append(mido.MetaMessage("set_tempo", tempo=500000))  # 120 bpm: 960 ticks a second
    spans, now = [], 0.0
    for pitch in PITCHES:
        track.append(mido.Message("note_on", note=pitch, velocity=velocity, time=int(gap * 960)))
        track.append(mido.Message("note_off", note=pitch, velocity=0, time=int(seconds * 960)))
        now += gap
        spans.append((now, now + seconds))
        now += seconds
    midi.save(str(path))
    return path, spans


def _sustained_loudness(audio: np.ndarray, spans) -> float:
    """Median loudness (dB) of the frames inside each note, past its attack (0.2 s)."""
    loudness = compute_loudness(audio, SR, 50)
    frames = np.concatenate([np.arange(int((a + 0.2) * 50), int(b * 50)) for a, b in spans])
    return float(np.median(loudness[frames]))


def test_velocity_100_plays_at_the_training_audios_typical_loudness(practised, tmp_path):
    _, bundle, _ = practised
    midi, spans = _notes_at(tmp_path / "v100.mid", 100)
    out = tmp_path / "v100.wav"
    render_midi_file(bundle, midi, out, sample_rate=SR, backend="numpy", show_progress=False)
    audio, _ = soundfile.read(str(out), dtype="float32")
    typical = bundle.manifest.feature_stats.loudness_db_typical
    level = _sustained_loudness(audio, spans)
    assert abs(level - typical) <= 2.0, f"velocity 100 at {level:.2f} dB, training audio typically {typical:.2f} dB"
    engine = Engine.from_bundle(bundle, sample_rate=SR, backend="numpy")
    assert engine.mapping.loudness_db(np.array([100]), np.zeros(1), np.zeros(1))[0] == pytest.approx(typical)


def test_a_bundle_from_before_level_calibration_plays_as_before(practised, tmp_path):
    home, bundle, _ = practised
    manifest = type(bundle.manifest)()
    manifest.CopyFrom(bundle.manifest)
    manifest.feature_stats.ClearField("loudness_db_typical")
    manifest.feature_stats.ClearField("level_gain_db")
    files = {name: bundle.file(name) for name in ("decoder.npz", "reverb_ir.npy")}
    old = PersonalityStore(home).commit("violin-old", manifest, files)
    midi, _ = _notes_at(tmp_path / "v100.mid", 100)
    engine = Engine.from_bundle(old, sample_rate=SR, backend="numpy")
    # What every bundle did before: velocity 127 at the loudest training loudness, no extra gain.
    assert engine.mapping.reference_db == pytest.approx(manifest.feature_stats.loudness_db_max)
    assert engine.level_gain_db == 0.0
    performance = read_midi(midi)
    before = render_midi(engine, performance)
    # The pre-calibration engine: built from the loudest loudness alone, as from_bundle used to.
    reference = Engine(
        engine.decoder,
        model_sample_rate=SR,
        frame_rate=50,
        sample_rate=SR,
        player_profile=manifest.player_profile,
        reverb_ir=np.load(old.file("reverb_ir.npy")),
        reference_db=manifest.feature_stats.loudness_db_max,
    )
    np.testing.assert_array_equal(before, render_midi(reference, performance))
    after = render_midi(Engine.from_bundle(bundle, sample_rate=SR, backend="numpy"), performance)
    assert abs(clip_level_db(after, SR) - clip_level_db(before, SR)) > 1.0  # the new fields do change the level
