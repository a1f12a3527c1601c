"""DSP helpers against their closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pipelines.ddsp import (
    angular_cumsum,
    exp_sigmoid,
    hz_to_midi,
    midi_to_hz,
    normalize_distribution,
    remove_above_nyquist,
    safe_log,
    upsample_linear,
)


def test_exp_sigmoid_matches_formula_and_range():
    x = np.array([-20.0, -2.0, 0.0, 2.0, 20.0], np.float32)
    expected = 2.0 / (1.0 + np.exp(-x)) ** math.log(10.0) + 1e-7
    np.testing.assert_allclose(exp_sigmoid(x).numpy(), expected, rtol=1e-5)
    assert exp_sigmoid(np.float32(50.0)).numpy() == pytest.approx(2.0, rel=1e-6)
    assert 0.0 < exp_sigmoid(np.float32(-50.0)).numpy() < 1e-6


def test_hz_to_midi_and_back():
    hz = np.array([440.0, 880.0, 261.6256, 27.5], np.float32)
    np.testing.assert_allclose(hz_to_midi(hz).numpy(), [69.0, 81.0, 60.0, 21.0], atol=1e-4)
    np.testing.assert_allclose(midi_to_hz(hz_to_midi(hz)).numpy(), hz, rtol=1e-5)
    # Unvoiced (0 Hz) and sub-audio frames clip to MIDI 0 instead of -inf.
    np.testing.assert_array_equal(hz_to_midi(np.array([0.0, 1.0], np.float32)).numpy(), [0.0, 0.0])


def test_safe_log_is_finite_at_zero():
    out = safe_log(np.array([0.0, 1.0, math.e], np.float32)).numpy()
    np.testing.assert_allclose(out, [math.log(1e-5), 0.0, 1.0], rtol=1e-6)


def test_upsample_linear_anchors_frames_and_holds_the_last():
    x = np.array([[[0.0], [4.0], [2.0]]], np.float32)  # [1, T=3, 1]
    y = upsample_linear(x, hop=4).numpy()[0, :, 0]
    np.testing.assert_allclose(y, [0, 1, 2, 3, 4, 3.5, 3, 2.5, 2, 2, 2, 2])


def test_angular_cumsum_keeps_phase_over_a_minute():
    sample_rate, seconds, f = 16000, 60, 440.7
    n = sample_rate * seconds
    phase = angular_cumsum(np.full((1, n), f, np.float32), sample_rate).numpy()[0]
    exact = np.mod(2 * np.pi * np.float32(f).astype(np.float64) * np.arange(1, n + 1) / sample_rate, 2 * np.pi)
    err = np.angle(np.exp(1j * (phase - exact)))
    assert np.max(np.abs(err)) < 1e-4
    assert phase.min() >= 0.0 and phase.max() < 2 * np.pi + 1e-6


def test_remove_above_nyquist_and_normalize():
    dist = np.ones((1, 1, 5), np.float32)
    f0 = np.array([[[3000.0]]], np.float32)  # harmonics at 3, 6, 9, 12, 15 kHz
    kept = remove_above_nyquist(dist, f0, 16000).numpy()[0, 0]
    np.testing.assert_array_equal(kept, [1, 1, 0, 0, 0])
    np.testing.assert_allclose(normalize_distribution(kept).numpy(), [0.5, 0.5, 0, 0, 0])
    np.testing.assert_array_equal(normalize_distribution(np.zeros(3, np.float32)).numpy(), [0, 0, 0])
