"""Spectrograms of two renders on one dB scale, side by side, as an RGB image (for a PNG or a canvas)."""

from __future__ import annotations

import numpy as np

__all__ = ["RANGE_DB", "colorize", "side_by_side", "spectrogram_db"]

RANGE_DB = 80.0
"""dB below the louder render's peak that the colour scale spans."""

# viridis at 0, .25, .5, .75, 1 (RGB 0..255), interpolated linearly
_STOPS = np.array([[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]], dtype=np.float64)


def spectrogram_db(
    audio: np.ndarray,
    sample_rate: int,
    *,
    n_fft: int = 1024,
    columns: int = 400,
    max_hz: float = 8000.0,
    rows: int = 200,
) -> np.ndarray:
    """A log-power spectrogram [rows, columns] in dB (row 0: the highest frequency), linear in
    frequency from 0 to ``max_hz`` (or Nyquist): each row shows the loudest FFT bin of its band,
    ``columns`` time slices over the whole signal."""
    audio = np.asarray(audio, np.float64).ravel()
    if audio.size < n_fft:
        audio = np.pad(audio, (0, n_fft - audio.size))
    hop = max(1, (audio.size - n_fft) // max(columns - 1, 1))
    frames = np.lib.stride_tricks.sliding_window_view(audio, n_fft)[::hop][:columns]
    power = np.abs(np.fft.rfft(frames * np.hanning(n_fft + 1)[:-1], axis=-1)) ** 2
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)
    top = min(max_hz, sample_rate / 2.0)
    keep = freqs <= top
    row_of_bin = np.clip(((top - freqs[keep]) / top * rows).astype(int), 0, rows - 1)  # the band each bin lies in
    picked = np.zeros((rows, power.shape[0]))
    np.maximum.at(picked, row_of_bin, power[:, keep].T)  # the loudest bin of each band
    db = 10.0 * np.log10(np.maximum(picked, 1e-20))
    if db.shape[1] < columns:
        db = np.pad(db, ((0, 0), (0, columns - db.shape[1])), constant_values=-200.0)
    return db


def colorize(db: np.ndarray, top_db: float, range_db: float = RANGE_DB) -> np.ndarray:
    """dB values [h, w] → RGB [h, w, 3] uint8 (viridis; ``top_db`` and above are yellow, ``top_db −
    range_db`` and below dark purple)."""
    x = np.clip((db - (top_db - range_db)) / range_db, 0.0, 1.0) * (len(_STOPS) - 1)
    low = np.minimum(x.astype(int), len(_STOPS) - 2)
    frac = (x - low)[..., None]
    return np.round(_STOPS[low] * (1 - frac) + _STOPS[low + 1] * frac).astype(np.uint8)


def side_by_side(a: np.ndarray, b: np.ndarray, sample_rate: int, *, gap: int = 8, **kwargs: int) -> np.ndarray:
    """Both renders' spectrograms, A left and B right, on the same dB scale (the louder one's peak at
    the top), with a white ``gap``: RGB [rows, 2 × columns + gap, 3] uint8."""
    da, db = spectrogram_db(a, sample_rate, **kwargs), spectrogram_db(b, sample_rate, **kwargs)
    top = float(max(da.max(), db.max()))
    white = np.full((da.shape[0], gap, 3), 255, np.uint8)
    return np.concatenate([colorize(da, top), white, colorize(db, top)], axis=1)
