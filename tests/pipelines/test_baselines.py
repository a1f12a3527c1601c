"""Baselines: right pitch, right loudness, nothing above Nyquist."""

from __future__ import annotations

import numpy as np
import pytest

from instrument_agent.features import compute_loudness
from pipelines.baselines import BASELINES, harmonic_stack_baseline, sine_baseline


def _spectrum(audio: np.ndarray, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    mag = np.abs(np.fft.rfft(audio * np.hanning(audio.size)))
    return np.fft.rfftfreq(audio.size, 1.0 / sample_rate), mag


def test_sine_has_its_peak_at_f0_and_the_asked_loudness():
    sr, fr = 16000, 50
    f0 = np.full(100, 440.0)
    loudness = np.full(100, -12.0)
    audio = sine_baseline(f0, loudness, sr, fr)
    assert audio.shape == (100 * 320,)
    freqs, mag = _spectrum(audio, sr)
    assert freqs[np.argmax(mag)] == pytest.approx(440.0, abs=1.0)
    measured = compute_loudness(audio, sr, fr)
    assert np.allclose(measured[5:-5], -12.0, atol=0.3)


@pytest.mark.parametrize("sample_rate", [16000, 44100])
def test_harmonic_stack_is_1_over_k_below_nyquist(sample_rate):
    fr = 50
    f0 = np.full(50, 1000.0)
    audio = harmonic_stack_baseline(f0, np.full(50, -20.0), sample_rate, fr, n_harmonics=60)
    freqs, mag = _spectrum(audio, sample_rate)
    at = lambda hz: mag[np.argmin(np.abs(freqs - hz))]  # noqa: E731
    assert at(2000.0) / at(1000.0) == pytest.approx(0.5, rel=0.02)
    assert at(5000.0) / at(1000.0) == pytest.approx(0.2, rel=0.02)
    top = int(np.ceil(sample_rate / 2 / 1000.0)) - 1  # highest harmonic strictly below Nyquist
    assert at(top * 1000.0) / at(1000.0) == pytest.approx(1.0 / top, rel=0.05)
    assert mag[freqs > top * 1000.0 + 100.0].max(initial=0.0) < 1e-3 * mag.max()
    assert np.allclose(compute_loudness(audio, sample_rate, fr)[5:-5], -20.0, atol=0.3)


def test_baselines_follow_a_changing_pitch_and_silence():
    sr, fr = 16000, 100
    f0 = np.concatenate([np.full(50, 220.0), np.full(50, 330.0)])
    loudness = np.concatenate([np.full(50, -10.0), np.full(50, -80.0)])
    for fn in BASELINES.values():
        audio = fn(f0, loudness, sr, fr)
        first, second = audio[: 40 * 160], audio[60 * 160 :]
        freqs, mag = _spectrum(first, sr)
        assert freqs[np.argmax(mag)] == pytest.approx(220.0, abs=3.0)
        assert np.sqrt(np.mean(second**2)) < 1e-3


def test_mismatched_curves_are_rejected():
    with pytest.raises(ValueError, match="same number of frames"):
        sine_baseline(np.ones(10), np.ones(9), 16000, 50)
