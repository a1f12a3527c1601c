"""Additive harmonic oscillator bank, streaming, batched over voices.

Harmonic ``k`` (1..H) of a voice runs at ``k * f0``; its amplitude is the
voice's ``amplitude * harmonic_distribution[k]`` (see docs/contracts.md).
Controls arrive at the control-frame rate; within a segment of ``n`` samples
the engine gives their values at the segment's start and end and they are
interpolated linearly per sample, so cutting a frame into any number of
segments gives the same audio (up to float rounding).
"""

from __future__ import annotations

import bisect
import itertools
from functools import lru_cache

import numpy as np

from instrument_agent.dsp import db_to_amplitude

__all__ = ["harmonic_amplitudes", "harmonic_pieces", "harmonic_segment", "harmonic_tilt_gains", "harmonic_track"]

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


def _pieces_track(f0_start: np.ndarray, f0_end: np.ndarray, lengths: list[int]) -> np.ndarray:
    """[V, n] float64 per-sample f0 of pieces whose f0 moves linearly from ``f0_start[p]`` (sample 0)
    towards ``f0_end[p]`` (sample ``lengths[p]``)."""
    parts = []
    for p, n in enumerate(lengths):
        j = np.arange(n, dtype=np.float64) / n
        parts.append(f0_start[p][:, None] + (f0_end[p] - f0_start[p])[:, None] * j[None, :])
    return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)


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
    :func:`harmonic_segment` calls (up to float rounding).

    Piece ``p`` lasts ``lengths[p]`` samples; within it f0 and the amplitudes
    move linearly from ``*_start[p]`` to ``*_end[p]`` (the value at sample
    ``lengths[p]``), as in :func:`harmonic_segment`.

    Args:
        phase: [V] float64 fundamental phase (radians) before the first piece.
        f0_start, f0_end: [P, V] Hz.
        amps_start, amps_end: [P, V, H] linear.
        lengths: [P] samples per piece (>= 1).
        sample_rate: output rate, Hz.

    Returns:
        (audio [V, sum(lengths)] float32, phase [V] float64 after the last piece, wrapped to [0, 2π)).
    """
    lengths = [int(n) for n in np.asarray(lengths).reshape(-1)]
    f0_start = np.asarray(f0_start, dtype=np.float64)
    track = _pieces_track(f0_start, np.asarray(f0_end, dtype=np.float64), lengths)
    return harmonic_track(phase, track, amps_start, amps_end, lengths, sample_rate)


def harmonic_track(
    phase: np.ndarray,
    f0: np.ndarray,
    amps_start: np.ndarray,
    amps_end: np.ndarray,
    lengths: list[int] | np.ndarray,
    sample_rate: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Render V voices whose f0 is given per sample and whose amplitudes move linearly per piece.

    The phase is the running sum of ``2π f0 / sample_rate`` in float64 (the first sample
    already advanced by one step, as DDSP's cumulative sum). Only the harmonics a voice
    plays are computed: voices are grouped by how many harmonics they use (a high note
    uses a few under the model's Nyquist, a low one many), and a harmonic above the
    output's Nyquist for the whole span is skipped; one that reaches it while f0 moves
    is silenced sample by sample.

    Args:
        phase: [V] float64 fundamental phase (radians) before the first sample.
        f0: [V, n] float64 Hz at each sample.
        amps_start, amps_end: [P, V, H] linear amplitudes at each piece's start and end.
        lengths: [P] samples per piece, summing to n.
        sample_rate: output rate, Hz.

    Returns:
        (audio [V, n] float32, phase [V] float64 after the last sample, wrapped to [0, 2π)).
    """
    phase = np.asarray(phase, dtype=np.float64)
    lengths = [int(n) for n in np.asarray(lengths).reshape(-1)]
    voices, total = f0.shape
    if voices == 0 or total == 0:
        return np.zeros((voices, total), dtype=np.float32), phase.copy()
    scale = _TWO_PI / sample_rate
    nyquist = sample_rate / 2.0
    cum = np.cumsum(f0, axis=1)
    cum *= scale
    cum += phase[:, None]
    new_phase = np.mod(cum[:, -1], _TWO_PI)
    wraps = np.multiply(cum, 1.0 / _TWO_PI)
    np.floor(wraps, out=wraps)
    wraps *= _TWO_PI
    x = np.subtract(cum, wraps, out=cum).astype(np.float32)  # [V, n] in [0, 2π) up to rounding (np.mod is 5x slower)
    amps_start = np.asarray(amps_start, dtype=np.float32)
    damps = np.asarray(amps_end, dtype=np.float32) - amps_start  # [P, V, H]
    n_harm = amps_start.shape[-1]
    k64 = _harmonic_numbers(n_harm).astype(np.float64)
    f_lo, f_hi = f0.min(axis=1), f0.max(axis=1)
    playing = (((amps_start != 0) | (damps != 0)).any(axis=0)) & (k64 * f_lo[:, None] < nyquist)  # [V, H]
    used = np.where(playing.any(axis=1), n_harm - np.argmax(playing[:, ::-1], axis=1), 0)  # [V] harmonics used
    out = np.zeros((voices, total), dtype=np.float32)
    starts = list(itertools.accumulate(lengths, initial=0))
    frac32 = np.concatenate([_ramps(n)[3] for n in lengths]) if len(lengths) > 1 else _ramps(lengths[0])[3]
    coef = np.stack([amps_start, damps], axis=2)  # [P, V, 2, H]
    coef *= playing[None, :, None, :]
    crossing = (playing & (k64 * f_hi[:, None] >= nyquist)).any(axis=1)  # [V]
    for group, n_used in _groups(used):
        k = k64[:n_used].astype(np.float32)[None, :, None]
        cross = f0[group] if crossing[group].any() else None
        _render_group(out, group, x[group], k, coef[:, group, :, :n_used], cross, frac32, starts, nyquist)
    return out, new_phase


def _groups(used: np.ndarray) -> list[tuple[np.ndarray, int]]:
    """Voices (indices) grouped by harmonics used: each group computes its largest count, and a new
    group starts at a voice using under half of it (fewer groups: each costs ~15 µs of calls)."""
    if used.size == 1:
        return [(np.zeros(1, dtype=np.intp), int(used[0]))] if used[0] else []
    order = np.argsort(-used, kind="stable")
    groups, current, top = [], [], 0
    for v in order.tolist():
        n = int(used[v])
        if n == 0:
            break
        if current and n < 0.5 * top:
            groups.append((np.array(current), top))
            current = []
        if not current:
            top = n
        current.append(v)
    if current:
        groups.append((np.array(current), top))
    return groups


def _render_group(out, group, x, k, coef, f0, frac32, starts, nyquist) -> None:
    """Add the harmonics of voices ``group`` (phases x [G, n], harmonic numbers k [1, K, 1],
    coefficients [P, G, 2, K]) to ``out`` [V, n]; f0 [G, n] when some harmonic crosses Nyquist."""
    voices, n_used = x.shape[0], k.shape[1]
    total = x.shape[1]
    chunk = max(64, _TABLE // (voices * n_used))
    table = np.empty(voices * n_used * min(chunk, total), dtype=np.float32)
    pieces = len(starts) - 1
    dest = np.empty((voices, total), dtype=np.float32)
    for c0 in range(0, total, chunk):
        c1 = min(total, c0 + chunk)
        sines = table[: voices * n_used * (c1 - c0)].reshape(voices, n_used, c1 - c0)
        np.multiply(k, x[:, None, c0:c1], out=sines)
        np.sin(sines, out=sines)
        for p in range(bisect.bisect_right(starts, c0) - 1, pieces):
            lo, hi = max(int(starts[p]), c0), min(int(starts[p + 1]), c1)
            if lo >= hi:
                break
            part = sines[:, :, lo - c0 : hi - c0]
            if f0 is not None:
                part = part * (k * f0[:, None, lo:hi].astype(np.float32) < nyquist)
            both = np.matmul(coef[p], part)  # [G, 2, m]
            seg = dest[:, lo:hi]
            np.multiply(both[:, 1], frac32[lo:hi], out=seg)
            seg += both[:, 0]
    out[group] = dest


@lru_cache(maxsize=16)
def _ramps(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For a piece of n samples, j = 0..n-1: (j + 1, (j + 1) j / 2n, j / n, j / n as float32); read-only."""
    j = np.arange(n, dtype=np.float64)
    frac = j / n
    ramps = (j + 1.0, (j + 1.0) * (0.5 * frac), frac, frac.astype(np.float32))
    for r in ramps:
        r.flags.writeable = False
    return ramps
