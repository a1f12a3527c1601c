"""Log-magnitude spectrogram images of audio (for a recording beside its resynthesis)."""

from __future__ import annotations

import numpy as np

from .colormap import colorize

__all__ = ["log_spectrogram", "spectrogram_image"]


def log_spectrogram(audio: np.ndarray, *, n_fft: int = 1024, hop: int = 256) -> np.ndarray:
    """Magnitude in dB (re full scale) of a Hann-windowed STFT.

    Args:
        audio: [n] float samples (shorter than ``n_fft``: zero-padded).
        n_fft: FFT size; hop: samples between frames.

    Returns:
        [frames, n_fft // 2 + 1] float64 dB, floored at -120 dB.
    """
    audio = np.asarray(audio, dtype=np.float64).reshape(-1)
    frames = max(1, 1 + (max(audio.size, n_fft) - n_fft) // hop)
    padded = np.zeros((frames - 1) * hop + n_fft)
    padded[: min(audio.size, padded.size)] = audio[: padded.size]
    windows = np.lib.stride_tricks.sliding_window_view(padded, n_fft)[::hop][:frames]
    window = np.hanning(n_fft + 1)[:-1]
    magnitude = np.abs(np.fft.rfft(windows * window, axis=-1)) / (window.sum() / 2.0)
    return 20.0 * np.log10(np.maximum(magnitude, 1e-6))


def spectrogram_image(
    audio: np.ndarray,
    sample_rate: int,
    *,
    height: int = 160,
    width: int | None = None,
    max_hz: float | None = 8000.0,
    range_db: float = 80.0,
    top_db: float | None = None,
) -> np.ndarray:
    """An RGB picture of ``audio``'s spectrogram: time to the right, frequency up (linear, 0..``max_hz``).

    Args:
        audio: [n] float samples at ``sample_rate`` Hz.
        height: image rows (frequency is resampled to it); width: image columns (default: one per frame).
        max_hz: highest frequency shown (clipped to Nyquist; None: Nyquist).
        range_db: dB below ``top_db`` mapped to the darkest colour.
        top_db: level of the brightest colour (default: the spectrogram's maximum); give two pictures
            the same ``top_db`` to compare them on one scale.

    Returns:
        [height, width, 3] float RGB in 0..1.
    """
    spec = log_spectrogram(audio)
    nyquist = sample_rate / 2.0
    top_hz = min(max_hz or nyquist, nyquist)
    bins = spec.shape[1]
    rows = np.linspace(top_hz, 0.0, height) / nyquist * (bins - 1)  # row 0 = the top = the highest frequency
    columns = np.arange(spec.shape[0]) if width is None else np.linspace(0, spec.shape[0] - 1, width)
    low, high = np.floor(rows).astype(int), np.minimum(np.floor(rows).astype(int) + 1, bins - 1)
    frac = rows - low
    picked = spec[np.round(columns).astype(int)]
    image_db = (picked[:, low] * (1 - frac) + picked[:, high] * frac).T
    top = float(spec.max()) if top_db is None else float(top_db)
    return colorize(image_db, low=top - range_db, high=top)
