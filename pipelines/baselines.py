"""Naive resynthesis baselines driven by a recording's true f0 and loudness.

They are the *floor* a learned personality must beat (DESIGN.md, "Targets"):

* :func:`sine_baseline` — one sinusoid at f0;
* :func:`harmonic_stack_baseline` — harmonics ``k = 1..H`` at ``k * f0`` with
  amplitudes ``∝ 1/k`` (a band-limited sawtooth), harmonics at or above
  Nyquist removed.

Both set their amplitude per frame so that their A-weighted loudness, as
:func:`instrument_agent.features.compute_loudness` measures it, equals the
given loudness curve: a harmonic set with linear amplitudes ``a·d_k`` reads
``10·log10(a² Σ d_k² W(k·f0))`` dB, where ``W`` is the A-weighting power gain,
so ``a = 10^(L/20) / sqrt(Σ d_k² W(k·f0))``. The weighting compensation is
capped at +20 dB (very low notes would otherwise get absurd amplitudes).
numpy only.
"""

from __future__ import annotations

import numpy as np

from instrument_agent.features import a_weighting_db

__all__ = ["BASELINES", "harmonic_stack_baseline", "sine_baseline"]

_MAX_COMPENSATION_DB = 20.0
_CHUNK = 8192


def _upsample(frames: np.ndarray, hop: int, n_samples: int) -> np.ndarray:
    """Linear interpolation of frame values (frame t centred at sample t*hop) to [n_samples]."""
    positions = np.arange(n_samples, dtype=np.float64) / hop
    return np.interp(positions, np.arange(frames.size, dtype=np.float64), frames.astype(np.float64))


def _render(
    distribution: np.ndarray, f0_hz: np.ndarray, loudness_db: np.ndarray, sample_rate: int, frame_rate: int
) -> np.ndarray:
    f0 = np.maximum(np.asarray(f0_hz, dtype=np.float64).reshape(-1), 0.0)
    loudness = np.asarray(loudness_db, dtype=np.float64).reshape(-1)
    if f0.shape != loudness.shape:
        raise ValueError(f"f0_hz {f0.shape} and loudness_db {loudness.shape} must have the same number of frames")
    hop = sample_rate // frame_rate
    n_samples = f0.size * hop
    harmonics = np.arange(1, distribution.size + 1, dtype=np.float64)
    # Per frame: harmonics below Nyquist, and the amplitude matching the loudness.
    freqs = f0[:, None] * harmonics[None, :]  # [T, H]
    keep = freqs < sample_rate / 2.0
    d = np.where(keep, distribution[None, :], 0.0)
    d = d / np.maximum(d.sum(axis=1, keepdims=True), 1e-12)
    weighted = np.sum(d**2 * 10.0 ** (a_weighting_db(freqs) / 10.0), axis=1)
    compensation = np.minimum(-10.0 * np.log10(np.maximum(weighted, 1e-30)), _MAX_COMPENSATION_DB)
    amplitude = 10.0 ** ((loudness + compensation) / 20.0)  # [T]
    amplitudes = amplitude[:, None] * d  # [T, H]

    f0_audio = _upsample(f0, hop, n_samples)
    phase = np.cumsum(2.0 * np.pi * f0_audio / sample_rate)
    out = np.zeros(n_samples, dtype=np.float64)
    positions = np.arange(n_samples, dtype=np.float64) / hop
    frame_index = np.arange(f0.size, dtype=np.float64)
    for k in range(distribution.size):
        if not np.any(amplitudes[:, k]):
            continue
        for start in range(0, n_samples, _CHUNK):
            stop = min(start + _CHUNK, n_samples)
            gain = np.interp(positions[start:stop], frame_index, amplitudes[:, k])
            out[start:stop] += gain * np.sin((k + 1) * phase[start:stop])
    return out.astype(np.float32)


def sine_baseline(f0_hz: np.ndarray, loudness_db: np.ndarray, sample_rate: int, frame_rate: int) -> np.ndarray:
    """A sinusoid following f0 at the given loudness.

    Args:
        f0_hz: [T] Hz per control frame (continuous; unvoiced frames interpolated).
        loudness_db: [T] A-weighted dB re full scale (instrument_agent.features' convention).
        sample_rate: Hz; frame_rate: frames per second (must divide sample_rate).

    Returns:
        [T * sample_rate / frame_rate] float32 audio.
    """
    return _render(np.ones(1), f0_hz, loudness_db, sample_rate, frame_rate)


def harmonic_stack_baseline(
    f0_hz: np.ndarray,
    loudness_db: np.ndarray,
    sample_rate: int,
    frame_rate: int,
    n_harmonics: int = 60,
) -> np.ndarray:
    """Harmonics ``k = 1..n_harmonics`` with amplitudes ∝ 1/k, at the given loudness.

    Shapes and units as :func:`sine_baseline`.
    """
    return _render(1.0 / np.arange(1, n_harmonics + 1, dtype=np.float64), f0_hz, loudness_db, sample_rate, frame_rate)


BASELINES = {"sine": sine_baseline, "harmonic_1_over_k": harmonic_stack_baseline}
"""Baseline name → function(f0_hz, loudness_db, sample_rate, frame_rate) -> audio."""
