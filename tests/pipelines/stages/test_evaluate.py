"""The evaluation loss: DDSP's multi-scale spectral loss, on real signals."""

from __future__ import annotations

import numpy as np
import pytest

from pipelines.stages import spectral_loss


def _tone(f0: float, seconds: float = 1.0, sr: int = 16000) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (0.3 * sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 8))).astype(np.float32)


def test_zero_for_identical_and_growing_with_detuning():
    reference = _tone(440.0)
    assert spectral_loss(reference, reference) == 0.0
    losses = [spectral_loss(reference, _tone(440.0 * 2 ** (cents / 1200))) for cents in (5, 30, 100, 400)]
    assert all(a < b for a, b in zip(losses, losses[1:], strict=False)), losses


def test_batched_equals_mean_of_items_and_shape_check():
    a = np.stack([_tone(220.0), _tone(330.0)])
    b = np.stack([_tone(225.0), _tone(320.0)])
    assert spectral_loss(a, b) == pytest.approx(
        np.mean([spectral_loss(a[0], b[0]), spectral_loss(a[1], b[1])]), rel=1e-9
    )
    with pytest.raises(ValueError, match="differ in shape"):
        spectral_loss(a, b[:, :-1])


def test_agrees_with_the_training_loss_in_pipelines_ddsp():
    from pipelines import ddsp

    rng = np.random.default_rng(0)
    a = np.stack([_tone(220.0), _tone(330.0)]) + 0.01 * rng.standard_normal((2, 16000)).astype(np.float32)
    b = np.stack([_tone(225.0), _tone(320.0)])
    assert spectral_loss(a, b) == pytest.approx(float(ddsp.multiscale_spectral_loss(a, b)), rel=1e-3)
