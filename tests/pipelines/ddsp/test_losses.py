"""The multi-scale spectral loss: zero for identical audio, growing with detuning."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from instrument_agent.proto import personality_pb2
from pipelines.ddsp import DEFAULT_FFT_SIZES, SpectralLoss, multiscale_spectral_loss

SR = 16000


def _tone(hz: float, seconds: float = 1.0) -> np.ndarray:
    t = np.arange(int(SR * seconds)) / SR
    return (0.5 * np.sin(2 * np.pi * hz * t) + 0.2 * np.sin(2 * np.pi * 2 * hz * t)).astype(np.float32)[None]


def test_zero_for_identical_signals():
    audio = _tone(440.0)
    assert float(multiscale_spectral_loss(audio, audio)) == 0.0


def test_grows_monotonically_with_detuning():
    target = _tone(440.0)
    losses = [float(multiscale_spectral_loss(target, _tone(hz))) for hz in (441.0, 445.0, 460.0)]
    assert 0.0 < losses[0] < losses[1] < losses[2], losses


def test_weights_select_the_terms():
    target, pred = _tone(440.0), _tone(445.0)
    mag = float(multiscale_spectral_loss(target, pred, mag_weight=1.0, logmag_weight=0.0))
    log = float(multiscale_spectral_loss(target, pred, mag_weight=0.0, logmag_weight=1.0))
    both = float(multiscale_spectral_loss(target, pred, mag_weight=2.0, logmag_weight=0.5))
    assert both == pytest.approx(2.0 * mag + 0.5 * log, rel=1e-5)


def test_from_profile_uses_its_fft_sizes_and_weights():
    profile = personality_pb2.LearnerProfile(fft_sizes=[512, 128], mag_weight=0.0, logmag_weight=3.0)
    loss = SpectralLoss.from_profile(profile)
    assert loss.fft_sizes == (512, 128) and loss.mag_weight == 0.0 and loss.logmag_weight == 3.0
    target, pred = _tone(440.0), _tone(450.0)
    expected = float(multiscale_spectral_loss(target, pred, (512, 128), 0.0, 3.0))
    assert float(loss(target, pred)) == pytest.approx(expected, rel=1e-6)
    assert SpectralLoss().fft_sizes == DEFAULT_FFT_SIZES


def test_gradient_reaches_the_prediction():
    target = tf.constant(_tone(440.0))
    pred = tf.Variable(_tone(450.0))
    with tf.GradientTape() as tape:
        loss = multiscale_spectral_loss(target, pred)
    grad = tape.gradient(loss, pred).numpy()
    assert np.all(np.isfinite(grad)) and np.abs(grad).max() > 0
