"""Log-magnitude spectrogram images of audio, one at a time or several on one dB scale."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .colormap import colorize

__all__ = ["RANGE_DB", "log_spectrogram", "spectrogram_db", "spectrogram_image", "spectrogram_images"]

RANGE_DB = 80.0
"""dB below the brightest colour that the colour scale spans (below it: the darkest colour)."""


def log_spectrogram(audio: np.ndarray, *, n_fft: int = 1024, hop: int = 256, columns: int | None = None) -> np.ndarray:
    """Magnitude in dB (re full scale) of a Hann-windowed STFT.

    Args:
        audio: [n] float samples (shorter than ``n_fft``: zero-padded).
        n_fft: FFT size; hop: samples between frames.
        columns: only these many frames, evenly picked from first to last (the nearest frame to
            each of ``columns`` evenly spaced times); None: every frame. Only the picked frames
            are transformed, so a long recording drawn narrow costs little memory.

    Returns:
        [frames or columns, n_fft // 2 + 1] float64 dB, floored at -120 dB.
    """
    audio = np.asarray(audio, dtype=np.float64).reshape(-1)
    frames = max(1, 1 + (max(audio.size, n_fft) - n_fft) // hop)
    padded = np.zeros((frames - 1) * hop + n_fft)
    padded[: min(audio.size, padded.size)] = audio[: padded.size]
    picked = np.arange(frames) if columns is None else np.round(np.linspace(0, frames - 1, columns)).astype(int)
    windows = np.lib.stride_tricks.sliding_window_view(padded, n_fft)[::hop][picked]
    window = np.hanning(n_fft + 1)[:-1]
    magnitude = np.abs(np.fft.rfft(windows * window, axis=-1)) / (window.sum() / 2.0)
    return 20.0 * np.log10(np.maximum(magnitude, 1e-6))


def spectrogram_db(
    audio: np.ndarray,
    sample_rate: int,
    *,
    height: int = 160,
    width: int | None = None,
    max_hz: float | None = 8000.0,
) -> np.ndarray:
    """``audio``'s spectrogram resampled to a picture's grid: time to the right, frequency up
    (linear, 0..``max_hz``; row 0 is ``max_hz``, the last row 0 Hz).

    Where FFT bins are denser than rows, a row shows the loudest bin of its band (no harmonic
    falls between rows); where sparser, rows interpolate linearly between bins.

    Args:
        audio: [n] float samples at ``sample_rate`` Hz.
        height: rows; width: columns (default: one per STFT frame, hop 256).
        max_hz: highest frequency shown (clipped to Nyquist; None: Nyquist).

    Returns:
        [height, width] float64 dB re full scale (floored at -120 dB).
    """
    spec = log_spectrogram(audio, columns=width)  # [columns, bins]
    nyquist = sample_rate / 2.0
    top_hz = min(max_hz or nyquist, nyquist)
    bins = spec.shape[1]
    rows = np.linspace(top_hz, 0.0, height) / nyquist * (bins - 1)  # fractional bin of each row
    low = np.floor(rows).astype(int)
    high = np.minimum(low + 1, bins - 1)
    frac = rows - low
    image_db = (spec[:, low] * (1 - frac) + spec[:, high] * frac).T
    bin_hz = np.arange(bins) * nyquist / (bins - 1)
    shown = bin_hz <= top_hz
    if shown.sum() > height:  # a row's band holds bins: its loudest, not a sample between two
        band_db = np.full_like(image_db, -np.inf)
        row_of_bin = np.round((top_hz - bin_hz[shown]) / top_hz * (height - 1)).astype(int)
        np.maximum.at(band_db, row_of_bin, spec[:, shown].T)
        image_db = np.where(np.isfinite(band_db), band_db, image_db)
    return image_db


def spectrogram_image(
    audio: np.ndarray,
    sample_rate: int,
    *,
    height: int = 160,
    width: int | None = None,
    max_hz: float | None = 8000.0,
    range_db: float = RANGE_DB,
    top_db: float | None = None,
) -> np.ndarray:
    """An RGB picture of ``audio``'s spectrogram (see :func:`spectrogram_db` for the grid).

    Args:
        range_db: dB below ``top_db`` mapped to the darkest colour.
        top_db: level of the brightest colour (default: the loudest point drawn); give two
            pictures the same ``top_db`` (or use :func:`spectrogram_images`) to compare them on one scale.

    Returns:
        [height, width, 3] float RGB in 0..1.
    """
    image_db = spectrogram_db(audio, sample_rate, height=height, width=width, max_hz=max_hz)
    top = float(image_db.max()) if top_db is None else float(top_db)
    return colorize(image_db, low=top - range_db, high=top)


def spectrogram_images(
    signals: Sequence[np.ndarray],
    sample_rate: int,
    *,
    height: int = 160,
    width: int | None = None,
    max_hz: float | None = 8000.0,
    range_db: float = RANGE_DB,
) -> list[np.ndarray]:
    """Pictures of several signals ([n_i] float each) on one dB scale: the loudest point drawn in
    any of them is the brightest colour, so a quieter signal looks darker.

    Returns:
        One [height, width_i, 3] float RGB (0..1) picture per signal.
    """
    grids = [spectrogram_db(s, sample_rate, height=height, width=width, max_hz=max_hz) for s in signals]
    top = max(float(grid.max()) for grid in grids)
    return [colorize(grid, low=top - range_db, high=top) for grid in grids]
