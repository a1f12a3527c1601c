"""The ingest and features stages on real recordings (written with soundfile)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile

from pipelines.data import AudioTooShortError, Examples, NoVoicedFramesError, SilentAudioError
from pipelines.demo.score import practice_score
from pipelines.demo.voice import bowed_string
from pipelines.stages import features, ingest

PROFILE = {"sample_rate": 16000, "frame_rate": 50, "example_seconds": 1.0, "holdout_fraction": 0.2, "f0_method": "pyin"}


@pytest.fixture(scope="module")
def recordings(tmp_path_factory):
    """Two real bowed-string recordings at different rates and layouts."""
    folder = tmp_path_factory.mktemp("audio")
    first = bowed_string(practice_score(5.0, seed=1), 44100, seed=1)
    second = bowed_string(practice_score(4.0, seed=2), 22050, seed=2)
    soundfile.write(str(folder / "a.wav"), np.stack([first, first], axis=1), 44100, subtype="PCM_16")
    soundfile.write(str(folder / "b.flac"), second, 22050, subtype="PCM_24")
    return [folder / "a.wav", folder / "b.flac"]


def test_ingest_then_features_make_aligned_examples_with_a_time_holdout(recordings, tmp_path):
    ingest_dir = ingest(recordings, PROFILE, tmp_path)
    table = json.loads((tmp_path / "ingest" / "recordings.json").read_text())
    assert [row["source_sample_rate"] for row in table["recordings"]] == [44100, 22050]
    assert [row["source_channels"] for row in table["recordings"]] == [2, 1]
    assert all(len(row["sha256"]) == 64 for row in table["recordings"])

    features_dir = features(ingest_dir, PROFILE, tmp_path, cache_dir=tmp_path / "cache")
    train = Examples.load(tmp_path / "features" / "train.npz")
    holdout = Examples.load(tmp_path / "features" / "holdout.npz")
    assert train.audio.shape[1:] == (16000,) and train.f0_hz.shape[1:] == (50,)
    assert len(holdout) >= 1 and holdout.loudness_db.shape[1:] == (50,)
    stats = json.loads((tmp_path / "features" / "stats.json").read_text())
    assert stats["train_examples"] == len(train) and stats["holdout_examples"] == len(holdout)
    assert 146.0 < stats["feature_stats"]["f0_hz_min"] and stats["feature_stats"]["f0_hz_max"] < 820.0  # D3..G5
    assert stats["feature_stats"]["voiced_fraction"] > 0.5
    assert stats["cache"] == {"hits": 0, "misses": 2}

    # A second run of the same data reuses the cached features.
    features(ingest_dir, PROFILE, tmp_path / "again", cache_dir=tmp_path / "cache")
    again = json.loads((tmp_path / "again" / "features" / "stats.json").read_text())
    assert again["cache"] == {"hits": 2, "misses": 0}
    assert np.array_equal(Examples.load(tmp_path / "again" / "features" / "train.npz").f0_hz, train.f0_hz)
    assert features_dir == str(tmp_path / "features")


def test_ingest_names_the_bad_file(recordings, tmp_path):
    silent = tmp_path / "silent.wav"
    soundfile.write(str(silent), np.zeros(48000, np.float32), 48000)
    with pytest.raises(SilentAudioError, match="silent.wav"):
        ingest([recordings[0], silent], PROFILE, tmp_path)


def test_features_rejects_unvoiced_noise(tmp_path):
    noise = tmp_path / "noise.wav"
    soundfile.write(str(noise), np.random.default_rng(0).uniform(-0.3, 0.3, 4 * 16000).astype(np.float32), 16000)
    ingest_dir = ingest([noise], PROFILE, tmp_path)
    with pytest.raises(NoVoicedFramesError, match="noise.wav"):
        features(ingest_dir, PROFILE, tmp_path, cache_dir=tmp_path / "cache")


def test_too_short_for_train_and_holdout(tmp_path):
    tone = tmp_path / "tone.wav"
    t = np.arange(int(1.5 * 16000)) / 16000
    soundfile.write(str(tone), (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 16000)
    ingest_dir = ingest([tone], PROFILE, tmp_path)
    with pytest.raises(AudioTooShortError, match="too short: one training and one held-out example need 2.00 s"):
        features(ingest_dir, PROFILE, tmp_path, cache_dir=tmp_path / "cache")
