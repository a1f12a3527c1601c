"""Preparing recordings for practice: length and voicing checks name the file."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile

from pipelines.data import (
    AudioTooShortError,
    FeatureCache,
    NoVoicedFramesError,
    example_frames,
    file_sha256,
    load_for_practice,
    recording_features,
)


def _write(path, audio, rate=16000, subtype="PCM_16"):
    soundfile.write(str(path), audio, rate, subtype=subtype)
    return path


def _tone(seconds: float, rate: int, f0: float = 220.0) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 6))).astype(np.float32)


def test_example_frames_rounds_to_whole_frames():
    assert example_frames(4.0, 50) == 200
    assert example_frames(1.01, 50) == 50


def test_audio_is_cut_to_whole_frames(tmp_path):
    path = _write(tmp_path / "tone.wav", _tone(2.013, 44100), 44100)
    loaded = load_for_practice(path, 16000, 50, example_seconds=1.0)
    assert loaded.audio.size % 320 == 0


def test_too_short_names_the_file_and_the_lengths(tmp_path):
    path = _write(tmp_path / "short.wav", _tone(0.8, 16000))
    with pytest.raises(AudioTooShortError, match=r"short\.wav: only 0\.8\d s of sound .* needs 2\.00 s") as info:
        load_for_practice(path, 16000, 50, example_seconds=2.0)
    assert info.value.path == str(path)


def test_unvoiced_noise_has_no_voiced_frames(tmp_path):
    noise = np.random.default_rng(1).uniform(-0.4, 0.4, 3 * 16000).astype(np.float32)
    path = _write(tmp_path / "noise.wav", noise)
    loaded = load_for_practice(path, 16000, 50, example_seconds=1.0)
    with pytest.raises(NoVoicedFramesError, match=r"noise\.wav: no pitched sound"):
        recording_features(path, loaded.audio, 16000, 50, "pyin", FeatureCache(tmp_path / "cache"))


def test_pitched_recording_passes_with_features(tmp_path):
    path = _write(tmp_path / "tone.flac", _tone(2.0, 48000, 330.0), 48000, "PCM_24")
    loaded = load_for_practice(path, 16000, 50, example_seconds=1.0)
    feats = recording_features(path, loaded.audio, 16000, 50, "pyin", None)
    assert len(feats) == loaded.audio.size // 320
    assert abs(float(np.median(feats.f0_hz)) - 330.0) < 1.5


def test_file_sha256_is_of_the_bytes(tmp_path):
    import hashlib

    path = _write(tmp_path / "tone.wav", _tone(0.5, 16000))
    assert file_sha256(path) == hashlib.sha256(path.read_bytes()).hexdigest()
