"""Example cutting, the time-based held-out split, and feature statistics."""

from __future__ import annotations

import numpy as np
import pytest

from pipelines.data import Examples, FrameFeatures, feature_stats, split_examples


def _timeline(n_frames: int, hop: int = 4):
    audio = np.arange(n_frames * hop, dtype=np.float32)
    frames = np.arange(n_frames, dtype=np.float32)
    return audio, FrameFeatures(frames + 100.0, np.ones(n_frames, np.float32), -frames)


def test_holdout_is_the_end_of_the_timeline_and_train_overlaps_by_half():
    audio, feats = _timeline(100)
    train, holdout = split_examples(audio, feats, hop=4, frames_per_example=10, holdout_fraction=0.2)
    assert len(holdout) == 2
    assert holdout.f0_hz[:, 0].tolist() == [180.0, 190.0]  # frames 80..99, no overlap
    assert train.f0_hz[:, 0].tolist() == [100.0 + s for s in range(0, 71, 5)]
    assert train.f0_hz.max() < 180.0  # nothing held out leaks into training
    assert train.audio.shape == (15, 40) and np.array_equal(train.audio[1], audio[20:60])
    assert np.array_equal(train.loudness_db[1], -np.arange(5, 15, dtype=np.float32))


def test_at_least_one_holdout_example_and_tail_window():
    audio, feats = _timeline(47)
    train, holdout = split_examples(audio, feats, hop=4, frames_per_example=10, holdout_fraction=0.01)
    assert len(holdout) == 1 and holdout.f0_hz[0, 0] == 137.0
    # 37 training frames: windows at 0, 5, ..., 25 then one aligned to the end (27).
    assert train.f0_hz[:, 0].tolist() == [100.0, 105.0, 110.0, 115.0, 120.0, 125.0, 127.0]


def test_no_holdout():
    audio, feats = _timeline(20)
    train, holdout = split_examples(audio, feats, hop=4, frames_per_example=10, holdout_fraction=0.0)
    assert len(holdout) == 0 and holdout.audio.shape == (0, 40) and len(train) == 3


def test_save_and_load_roundtrip(tmp_path):
    audio, feats = _timeline(30)
    train, _ = split_examples(audio, feats, hop=4, frames_per_example=10, holdout_fraction=0.0)
    loaded = Examples.load(train.save(tmp_path / "train.npz"))
    for name in ("audio", "f0_hz", "f0_confidence", "loudness_db"):
        assert np.array_equal(getattr(loaded, name), getattr(train, name))


def test_feature_stats_use_voiced_frames():
    examples = Examples(
        audio=np.zeros((1, 16), np.float32),
        f0_hz=np.array([[440.0, 880.0, 55.0, 220.0]], np.float32),
        f0_confidence=np.array([[0.9, 0.9, 0.1, 0.9]], np.float32),
        loudness_db=np.array([[-10.0, -20.0, -80.0, -30.0]], np.float32),
    )
    stats = feature_stats(examples)
    assert stats["voiced_fraction"] == pytest.approx(0.75)
    assert stats["f0_hz_min"] == 220.0 and stats["f0_hz_max"] == 880.0
    assert stats["f0_midi_mean"] == pytest.approx(69.0)
    assert stats["loudness_db_max"] == -10.0 and stats["loudness_db_mean"] == pytest.approx(-35.0)
