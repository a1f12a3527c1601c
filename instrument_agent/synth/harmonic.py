"""Additive harmonic oscillator bank, streaming, batched over voices.

Harmonic ``k`` (1..H) of a voice runs at ``k * f0``; its amplitude is the
voice's ``amplitude * harmonic_distribution[k]`` (see docs/contracts.md).
Controls arrive at the control-frame rate; within a segment of ``n`` samples
the engine gives their values at the segment's start and end and they are
interpolated linearly per sample, so cutting a frame into any number of
segments gives the same audio (up to float rounding).
"""

from __future__ import annotations

import numpy as np

__all__ = ["harmonic_amplitudes", "harmonic_segment", "harmonic_tilt_gains"]

_TWO_PI = 2.0 * np.pi
_CHUNK = 2048  # samples per inner chunk: keeps the [V, H, chunk] sine table in cache


def harmonic_tilt_gains(n_harmonics: int, tilt_db_per_octave: np.ndarray | float) -> np.ndarray:
    """Linear gain per harmonic for a spectral tilt ("brightness").

    Args:
        n_harmonics: H.
        tilt_db_per_octave: scalar or [V] dB per octave above the fundamental.

    Returns:
        [V, H] (or [1, H] for a scalar) float32 gains, 1 at the fundamental.
    """
    octaves = np.log2(np.arange(1, n_harmonics + 1, dtype=np.float64))
    tilt = np.atleast_1d(np.asarray(tilt_db_per_octave, dtype=np.float64))
    return (10.0 ** (tilt[:, None] * octaves[None, :] / 20.0)).astype(np.float32)


def harmonic_amplitudes(
    amplitude: np.ndarray,
    distribution: np.ndarray,
    f0_hz: np.ndarray,
    nyquist_hz: float,
    tilt_gains: np.ndarray | None = None,
) -> np.ndarray:
    """Per-harmonic amplitudes for one control frame.

    Harmonics at or above ``nyquist_hz`` are removed, the (tilted)
    distribution is renormalised to sum 1 and scaled by ``amplitude``.

    Args:
        amplitude: [V] linear overall amplitude.
        distribution: [V, H] non-negative, un-normalised.
        f0_hz: [V] fundamental (Hz). When f0 moves during a frame pass the
            highest f0 of the interval so no harmonic crosses Nyquist.
        nyquist_hz: Hz; use the lower of the model's and the output's Nyquist.
        tilt_gains: optional [V, H] or [1, H] gains (:func:`harmonic_tilt_gains`).

    Returns:
        [V, H] float32 linear amplitudes.
    """
    distribution = np.asarray(distribution, dtype=np.float32)
    n_harmonics = distribution.shape[-1]
    k = np.arange(1, n_harmonics + 1, dtype=np.float32)
    audible = k[None, :] * np.asarray(f0_hz, dtype=np.float32)[:, None] < nyquist_hz
    dist = np.where(audible, distribution, 0.0)
    if tilt_gains is not None:
        dist = dist * tilt_gains
    total = dist.sum(axis=-1, keepdims=True)
    dist = dist / np.where(total > 0, total, 1.0)
    return (dist * np.asarray(amplitude, dtype=np.float32)[:, None]).astype(np.float32)


def harmonic_segment(
    phase: np.ndarray,
    f0_start: np.ndarray,
    f0_end: np.ndarray,
    amps_start: np.ndarray,
    amps_end: np.ndarray,
    n: int,
    sample_rate: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Render ``n`` samples of V harmonic voices.

    f0 and the harmonic amplitudes move linearly from ``*_start`` (value at
    sample 0) towards ``*_end`` (value at sample ``n``, the first sample of
    the next segment). The phase is the running sum of ``2π f / sample_rate``
    in float64 (the first sample already advanced by one step, as DDSP's
    cumulative sum); harmonics whose instantaneous frequency reaches the
    output's Nyquist are silenced sample by sample.

    Args:
        phase: [V] float64 fundamental phase (radians) before the segment.
        f0_start, f0_end: [V] Hz.
        amps_start, amps_end: [V, H] linear (:func:`harmonic_amplitudes`).
        n: samples.
        sample_rate: output rate, Hz.

    Returns:
        (audio [V, n] float32, phase [V] float64 after the segment, wrapped to [0, 2π)).
    """
    phase = np.asarray(phase, dtype=np.float64)
    voices = phase.shape[0]
    out = np.zeros((voices, n), dtype=np.float32)
    if voices == 0 or n == 0:
        return out, phase.copy()
    f0_start = np.asarray(f0_start, dtype=np.float64)
    df = np.asarray(f0_end, dtype=np.float64) - f0_start
    amps_start = np.asarray(amps_start, dtype=np.float32)
    damps = np.asarray(amps_end, dtype=np.float32) - amps_start
    # Only the harmonics some voice actually plays.
    used = np.flatnonzero(np.any((amps_start != 0) | (damps != 0), axis=0))
    nyquist = sample_rate / 2.0
    if used.size:
        n_used = int(used[-1]) + 1
        amps_start = amps_start[:, :n_used]
        damps = damps[:, :n_used]
        k = np.arange(1, n_used + 1, dtype=np.float32)
        f_max = np.maximum(f0_start, f0_start + df)
        mask_needed = bool(np.any(n_used * f_max >= nyquist))
    scale = _TWO_PI / sample_rate
    for lo in range(0, n, _CHUNK):
        hi = min(n, lo + _CHUNK)
        j = np.arange(lo, hi, dtype=np.float64)
        # Closed-form running sum of the linearly moving frequency.
        cum = (j + 1.0)[None, :] * f0_start[:, None] + df[:, None] * (j * (j + 1.0) / (2.0 * n))[None, :]
        theta = np.mod(phase[:, None] + scale * cum, _TWO_PI)
        if not used.size:
            continue
        x = theta.astype(np.float32)
        sines = np.sin(k[None, :, None] * x[:, None, :])  # [V, K, m]
        if mask_needed:
            f_inst = (f0_start[:, None] + df[:, None] * (j / n)[None, :]).astype(np.float32)
            sines *= k[None, :, None] * f_inst[:, None, :] < nyquist
        base = np.matmul(amps_start[:, None, :], sines)[:, 0, :]
        slope = np.matmul(damps[:, None, :], sines)[:, 0, :]
        out[:, lo:hi] = base + slope * (j / n).astype(np.float32)[None, :]
    j_last = float(n - 1)
    cum_last = n * f0_start + df * (j_last * n / (2.0 * n))
    new_phase = np.mod(phase + scale * cum_last, _TWO_PI)
    return out, new_phase
