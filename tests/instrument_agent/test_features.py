"""instrument_agent.features against analytic facts on real signals."""

from __future__ import annotations

import numpy as np
import pytest

from instrument_agent import features


def _sine(freq: float, seconds: float, sample_rate: int, amplitude: float = 1.0) -> np.ndarray:
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _harmonic_tone(f0: float, seconds: float, sample_rate: int) -> np.ndarray:
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    return (0.3 * sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 8))).astype(np.float32)


@pytest.mark.parametrize("sample_rate", [16000, 22050, 44100, 48000])
def test_full_scale_1khz_sine_reads_0_db_and_minus_20_db_sine_20_db_less(sample_rate):
    loud = features.compute_loudness(_sine(1000, 1.0, sample_rate), sample_rate, 50)
    quiet = features.compute_loudness(_sine(1000, 1.0, sample_rate, 0.1), sample_rate, 50)
    middle = slice(5, -5)  # away from the zero-padded edges
    assert np.allclose(loud[middle], 0.0, atol=0.1)
    assert np.allclose(loud[middle] - quiet[middle], 20.0, atol=0.5)


def test_loudness_is_a_weighted_and_floored():
    sr = 16000
    low = features.compute_loudness(_sine(100, 1.0, sr), sr, 50)[25]
    # IEC 61672 A-weighting at 100 Hz is -19.1 dB.
    assert low == pytest.approx(-19.1, abs=0.3)
    silence = features.compute_loudness(np.zeros(sr, np.float32), sr, 50)
    assert np.all(silence == -features.DB_RANGE)


def test_a_weighting_reference_points():
    db = features.a_weighting_db(np.array([1000.0, 100.0, 10000.0, 0.0]))
    assert db[0] == pytest.approx(0.0, abs=0.01)
    assert db[1] == pytest.approx(-19.1, abs=0.1)
    assert db[2] == pytest.approx(-2.5, abs=0.1)
    assert db[3] == -80.0


@pytest.mark.parametrize("n_samples", [16000, 16319, 16320, 1])
def test_frame_count_convention(n_samples):
    audio = np.zeros(n_samples, np.float32)
    expected = int(n_samples * 50 / 16000)
    assert features.frame_count(n_samples, 16000, 50) == expected
    assert features.compute_loudness(audio, 16000, 50).shape == (expected,)


def test_frame_rate_must_divide_sample_rate():
    with pytest.raises(ValueError, match="must divide"):
        features.compute_loudness(np.zeros(1000), 16000, 48)


def test_pyin_f0_of_220_hz_tone_within_1_hz():
    sr = 16000
    f0, confidence = features.compute_f0(_harmonic_tone(220.0, 1.5, sr), sr, 50, method="pyin")
    assert f0.shape == confidence.shape == (features.frame_count(int(1.5 * sr), sr, 50),)
    assert abs(float(np.median(f0)) - 220.0) < 1.0
    assert np.all(np.abs(f0[3:-3] - 220.0) < 1.0)
    assert confidence[5:-5].min() > 0.5


def test_yin_f0_and_confidence_at_44_1_khz():
    sr = 44100
    f0, confidence = features.compute_f0(_harmonic_tone(330.0, 1.0, sr), sr, 50, method="yin")
    assert abs(float(np.median(f0)) - 330.0) < 1.5
    assert np.median(confidence) > 0.9


def test_unvoiced_frames_take_neighbouring_pitch_and_low_confidence():
    sr = 16000
    gap = np.zeros(sr // 2, np.float32)
    audio = np.concatenate([_harmonic_tone(220.0, 0.6, sr), gap, _harmonic_tone(330.0, 0.6, sr)])
    f0, confidence = features.compute_f0(audio, sr, 50, method="pyin")
    middle = features.frame_count(int(0.85 * sr), sr, 50)
    assert confidence[middle] < 0.3
    assert 215.0 < f0[middle] < 335.0  # interpolated, never 0 Hz
    assert np.all(f0 > 0)


def test_noise_has_no_confident_frames():
    noise = np.random.default_rng(0).uniform(-0.5, 0.5, 16000).astype(np.float32)
    _, confidence = features.compute_f0(noise, 16000, 50)
    assert (confidence >= 0.5).mean() < 0.05


def test_fill_unvoiced_interpolates_and_holds_edges():
    filled = features.fill_unvoiced(np.array([np.nan, 100.0, np.nan, 200.0, 0.0]))
    assert np.allclose(filled, [100.0, 100.0, 150.0, 200.0, 200.0])
    assert np.all(features.fill_unvoiced(np.array([np.nan, np.nan])) == 0.0)


def test_unknown_method_and_registry():
    with pytest.raises(features.UnknownF0MethodError, match="known: .*pyin"):
        features.compute_f0(np.zeros(1600), 16000, 50, method="crepe")

    def constant(audio, sample_rate, frame_rate):
        n = features.frame_count(audio.size, sample_rate, frame_rate)
        return np.full(n, 123.0), np.ones(n)

    features.register_f0_method("constant", constant)
    try:
        f0, confidence = features.compute_f0(np.zeros(1600), 16000, 50, method="constant")
        assert np.all(f0 == 123.0) and np.all(confidence == 1.0)
    finally:
        del features.F0_METHODS["constant"]


def test_module_imports_without_librosa_at_module_level():
    import subprocess
    import sys

    code = "import sys, instrument_agent.features; assert 'librosa' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
