"""Additive harmonic oscillator bank, streaming, batched over voices.

Harmonic ``k`` (1..H) of a voice runs at ``k * f0``; its amplitude is the
voice's ``amplitude * harmonic_distribution[k]`` (see docs/contracts.md).
Controls arrive at the control-frame rate; within a segment of ``n`` samples
the engine gives their values at the segment's start and end and they are
interpolated linearly per sample, so cutting a frame into any number of
segments gives the same audio (up to float rounding).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from instrument_agent.dsp import db_to_amplitude

__all__ = ["harmonic_amplitudes", "harmonic_pieces", "harmonic_segment", "harmonic_tilt_gains"]

_TWO_PI = 2.0 * np.pi
_TABLE = 1 << 18  # elements of the [V, H, chunk] sine table per inner chunk (1 MB: stays in cache)


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
    return db_to_amplitude(tilt[:, None] * octaves[None, :]).astype(np.float32)


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
    k = _harmonic_numbers(distribution.shape[-1])
    dist = distribution * (k[None, :] * np.asarray(f0_hz, dtype=np.float32)[:, None] < nyquist_hz)
    if tilt_gains is not None:
        dist *= tilt_gains
    total = dist.sum(axis=-1)
    dist *= (np.asarray(amplitude, dtype=np.float32) / np.where(total > 0, total, np.float32(1.0)))[:, None]
    return dist


@lru_cache(maxsize=8)
def _harmonic_numbers(n_harmonics: int) -> np.ndarray:
    k = np.arange(1, n_harmonics + 1, dtype=np.float32)
    k.flags.writeable = False
    return k


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
    return harmonic_pieces(
        phase,
        np.asarray(f0_start, dtype=np.float64)[None],
        np.asarray(f0_end, dtype=np.float64)[None],
        np.asarray(amps_start, dtype=np.float32)[None],
        np.asarray(amps_end, dtype=np.float32)[None],
        np.array([n]),
        sample_rate,
    )


@lru_cache(maxsize=16)
def _ramps(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For a piece of n samples, j = 0..n-1: (j + 1, (j + 1) j / 2n, j / n, j / n as float32); read-only."""
    j = np.arange(n, dtype=np.float64)
    frac = j / n
    ramps = (j + 1.0, (j + 1.0) * (0.5 * frac), frac, frac.astype(np.float32))
    for r in ramps:
        r.flags.writeable = False
    return ramps


def harmonic_pieces(
    phase: np.ndarray,
    f0_start: np.ndarray,
    f0_end: np.ndarray,
    amps_start: np.ndarray,
    amps_end: np.ndarray,
    lengths: np.ndarray,
    sample_rate: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Render P consecutive pieces at once: the same audio as P chained
    :func:`harmonic_segment` calls (up to float rounding), without a Python
    loop over samples and with one phase computation for the whole span.

    Piece ``p`` lasts ``lengths[p]`` samples; within it f0 and the amplitudes
    move linearly from ``*_start[p]`` to ``*_end[p]`` (the value at sample
    ``lengths[p]``), as in :func:`harmonic_segment`. A harmonic above the
    output's Nyquist for a whole piece is dropped; one that crosses it within
    the piece (f0 gliding) is silenced sample by sample.

    Args:
        phase: [V] float64 fundamental phase (radians) before the first piece.
        f0_start, f0_end: [P, V] Hz.
        amps_start, amps_end: [P, V, H] linear.
        lengths: [P] samples per piece (>= 1).
        sample_rate: output rate, Hz.

    Returns:
        (audio [V, sum(lengths)] float32, phase [V] float64 after the last piece, wrapped to [0, 2π)).
    """
    phase = np.asarray(phase, dtype=np.float64)
    lengths = [int(n) for n in np.asarray(lengths).reshape(-1)]
    voices, total = phase.shape[0], sum(lengths)
    if voices == 0 or total == 0:
        return np.zeros((voices, total), dtype=np.float32), phase.copy()
    f0_start = np.asarray(f0_start, dtype=np.float64)
    df = np.asarray(f0_end, dtype=np.float64) - f0_start  # [P, V]
    gliding = bool(np.any(df))
    amps_start = np.asarray(amps_start, dtype=np.float32)
    damps = np.asarray(amps_end, dtype=np.float32) - amps_start  # [P, V, H]
    scale = _TWO_PI / sample_rate
    nyquist = sample_rate / 2.0
    # Phase advance of each piece: the sum over its samples j of f0_start + df j / n.
    n_p = np.asarray(lengths, dtype=np.float64)[:, None]
    advance = n_p * f0_start
    if gliding:
        advance += df * ((n_p - 1.0) / 2.0)  # [P, V] Hz·samples
    before = np.cumsum(advance, axis=0)
    new_phase = np.mod(phase + scale * before[-1], _TWO_PI)
    before -= advance
    # Only the harmonics some voice plays, and not those above Nyquist for a whole piece.
    n_harm = amps_start.shape[-1]
    k64 = np.arange(1, n_harm + 1, dtype=np.float64)
    f_lo = np.minimum(f0_start, f0_start + df) if gliding else f0_start
    playing = ((amps_start != 0) | (damps != 0)) & (k64 * f_lo[..., None] < nyquist)  # [P, V, H]
    used = np.flatnonzero(playing.any(axis=(0, 1)))
    if not used.size:
        return np.zeros((voices, total), dtype=np.float32), new_phase
    n_used = int(used[-1]) + 1
    k64, playing = k64[:n_used], playing[..., :n_used]
    coef = np.stack([amps_start[..., :n_used], damps[..., :n_used]], axis=2)  # [P, V, 2, K]
    coef *= playing[:, :, None, :]
    if gliding:  # pieces where a played harmonic reaches Nyquist within the piece
        f_hi = np.maximum(f0_start, f0_start + df)
        crossing = (playing & (k64 * f_hi[..., None] >= nyquist)).any(axis=(1, 2))
    k = k64.astype(np.float32)[None, :, None]
    # Phase of every sample of the span: closed-form running sum of the linearly moving frequency.
    ramps = [_ramps(n) for n in lengths]
    if len(lengths) == 1:
        j1, ramp, frac, frac32 = ramps[0]
        cum = np.multiply.outer(f0_start[0], j1)  # [V, n]
        if gliding:
            cum += np.multiply.outer(df[0], ramp)
        cum *= scale
        cum += np.mod(phase + scale * before[0], _TWO_PI)[:, None]
    else:
        piece = np.repeat(np.arange(len(lengths)), lengths)
        j1, ramp, frac, frac32 = (np.concatenate(r) for r in zip(*ramps, strict=True))
        cum = f0_start[piece].T * j1
        if gliding:
            cum += df[piece].T * ramp
        cum *= scale
        cum += np.mod(phase[None, :] + scale * before, _TWO_PI)[piece].T
    x = np.mod(cum, _TWO_PI, out=cum).astype(np.float32)  # [V, n]
    out = np.empty((voices, total), dtype=np.float32)
    chunk = max(64, _TABLE // (voices * n_used))
    table = np.empty(voices * n_used * min(chunk, total), dtype=np.float32)
    starts = np.cumsum([0] + lengths)
    for c0 in range(0, total, chunk):
        c1 = min(total, c0 + chunk)
        sines = table[: voices * n_used * (c1 - c0)].reshape(voices, n_used, c1 - c0)
        np.multiply(k, x[:, None, c0:c1], out=sines)
        np.sin(sines, out=sines)
        # The pieces within this chunk, each with its own amplitude ramp.
        for p in range(int(np.searchsorted(starts, c0, side="right")) - 1, len(lengths)):
            lo, hi = max(int(starts[p]), c0), min(int(starts[p + 1]), c1)
            if lo >= hi:
                break
            part = sines[:, :, lo - c0 : hi - c0]
            if gliding and crossing[p]:
                f_inst = (f0_start[p][:, None] + df[p][:, None] * frac[None, lo:hi]).astype(np.float32)
                part = part * (k * f_inst[:, None, :] < nyquist)
            both = np.matmul(coef[p], part)  # [V, 2, m]
            seg = out[:, lo:hi]
            np.multiply(both[:, 1], frac32[lo:hi], out=seg)
            seg += both[:, 0]
    return out, new_phase
