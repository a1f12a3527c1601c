"""The harmonic envelope and what tilt + gain leave of a difference (``pipelines.feedback.envelope``), on
generated harmonic tones: a difference that is a tilt is explained, an odd/even one is not."""

from __future__ import annotations

import numpy as np
import pytest

from pipelines.feedback import FeedbackMethodError, check_method, harmonic_envelope, knob_residual

SR, FR = 16000, 50


def _tone(levels_db: np.ndarray, f0: float = 196.0, seconds: float = 1.5) -> tuple[np.ndarray, np.ndarray]:
    """A steady tone whose harmonic k has ``levels_db[k-1]`` dB, and its f0 curve."""
    t = np.arange(int(seconds * SR)) / SR
    audio = sum(10 ** (lv / 20) * np.sin(2 * np.pi * k * f0 * t) for k, lv in enumerate(levels_db, start=1))
    return 0.05 * audio / np.max(np.abs(audio)), np.full(int(seconds * FR), f0)


def test_a_tilt_is_explained_and_measured():
    k = np.arange(1, 21)
    base = -2.0 * np.log2(k) ** 2  # a curved envelope
    liked = harmonic_envelope(*_tone(base + 5.0 * np.log2(k)), SR, FR)
    reference = harmonic_envelope(*_tone(base, f0=220.0), SR, FR)
    residual = knob_residual(liked, reference)
    assert residual.tilt_db_per_octave == pytest.approx(5.0, abs=0.7)
    assert residual.difference_db > 4.0 and residual.residual_db < 1.0, residual


def test_an_odd_even_difference_is_not_explained():
    k = np.arange(1, 21)
    base = -4.0 * np.log2(k)
    clarinet_like = np.where(k % 2 == 0, base - 25.0, base)
    residual = knob_residual(
        harmonic_envelope(*_tone(clarinet_like), SR, FR), harmonic_envelope(*_tone(base, f0=220.0), SR, FR)
    )
    assert residual.residual_db > 8.0, residual
    assert residual.harmonics == 12


def test_silence_and_unvoiced_frames_give_no_envelope():
    envelope = harmonic_envelope(np.zeros(SR), np.zeros(FR), SR, FR)
    assert np.isnan(envelope).all()
    assert knob_residual(envelope, envelope).residual_db == 0.0


def test_methods_are_checked():
    assert check_method("FineTune") == "finetune" and check_method("") == "auto"
    with pytest.raises(FeedbackMethodError, match="'weights': expected one of auto, knobs, finetune"):
        check_method("weights")
