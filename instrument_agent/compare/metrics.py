"""How two renders of the same phrase differ: spectrum (multi-scale spectral distance, centroid)
and level (A-weighted and RMS, dB). Pure numpy; every input is mono float audio [n] at one rate."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from instrument_agent.features import a_weighting_db

__all__ = [
    "FFT_SIZES",
    "Comparison",
    "a_weighted_db",
    "compare_audio",
    "rms_db",
    "spectral_centroid_hz",
    "spectral_distance",
]

FFT_SIZES = (2048, 1024, 512, 256, 128, 64)
"""The multi-scale spectral loss's FFT sizes (DDSP's defaults), 75 % overlap, Hann window."""

_FLOOR_DB = -120.0


def _stft_mag(audio: np.ndarray, n_fft: int) -> np.ndarray:
    """[frames, n_fft // 2 + 1] magnitudes (Hann, hop n_fft // 4, zero-padded ends)."""
    hop = n_fft // 4
    padded = np.pad(np.asarray(audio, dtype=np.float64), (n_fft // 2, n_fft // 2 + hop))
    frames = np.lib.stride_tricks.sliding_window_view(padded, n_fft)[::hop]
    return np.abs(np.fft.rfft(frames * np.hanning(n_fft + 1)[:-1], axis=-1))


def _same_length(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = max(a.size, b.size)
    return np.pad(a, (0, n - a.size)), np.pad(b, (0, n - b.size))


def spectral_distance(a: np.ndarray, b: np.ndarray, fft_sizes: tuple[int, ...] = FFT_SIZES) -> float:
    """The multi-scale spectral loss between two signals (0 for identical ones): summed over FFT sizes,
    mean |S_a − S_b| plus mean |log S_a − log S_b| (log with a 1e-7 floor). The shorter is zero-padded."""
    a, b = _same_length(np.asarray(a, np.float64).ravel(), np.asarray(b, np.float64).ravel())
    total = 0.0
    for n_fft in fft_sizes:
        sa, sb = _stft_mag(a, n_fft), _stft_mag(b, n_fft)
        total += float(np.mean(np.abs(sa - sb)) + np.mean(np.abs(np.log(sa + 1e-7) - np.log(sb + 1e-7))))
    return total


def spectral_centroid_hz(audio: np.ndarray, sample_rate: int, n_fft: int = 2048) -> float:
    """Power-weighted mean frequency over the whole signal, Hz (0 for silence)."""
    power = _stft_mag(np.asarray(audio, np.float64).ravel(), n_fft) ** 2
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)
    total = power.sum()
    return float((power @ freqs).sum() / total) if total > 0 else 0.0


def rms_db(audio: np.ndarray) -> float:
    """RMS level, dB re full scale (a full-scale sine reads −3 dB), floored at −120 dB."""
    rms = float(np.sqrt(np.mean(np.square(np.asarray(audio, np.float64))))) if np.size(audio) else 0.0
    return max(20.0 * np.log10(max(rms, 1e-12)), _FLOOR_DB)


def a_weighted_db(audio: np.ndarray, sample_rate: int, n_fft: int = 2048) -> float:
    """A-weighted level of the whole signal, dB (a full-scale 1 kHz sine reads 0 dB), floored at −120 dB."""
    audio = np.asarray(audio, np.float64).ravel()
    if audio.size == 0:
        return _FLOOR_DB
    window = np.hanning(n_fft + 1)[:-1]
    power = _stft_mag(audio, n_fft) ** 2
    weight = 10.0 ** (a_weighting_db(np.fft.rfftfreq(n_fft, 1.0 / sample_rate)) / 10.0)
    weight[1 : (n_fft + 1) // 2] *= 2.0
    mean_square = float(np.mean(power @ weight)) * 2.0 / (n_fft * np.sum(window**2))
    return max(10.0 * np.log10(max(mean_square, 1e-24)), _FLOOR_DB)


@dataclass(frozen=True)
class Comparison:
    """Two renders measured: each's centroid (Hz), A-weighted and RMS level (dB), and their
    multi-scale spectral distance (0: the same sound)."""

    spectral_distance: float
    centroid_hz: tuple[float, float]
    a_weighted_db: tuple[float, float]
    rms_db: tuple[float, float]
    seconds: tuple[float, float]

    def rows(self) -> list[tuple[str, float, float, float]]:
        """``(measure, A, B, B − A)`` for a table."""
        return [
            ("spectral centroid (Hz)", *self.centroid_hz, self.centroid_hz[1] - self.centroid_hz[0]),
            ("A-weighted level (dB)", *self.a_weighted_db, self.a_weighted_db[1] - self.a_weighted_db[0]),
            ("RMS level (dB)", *self.rms_db, self.rms_db[1] - self.rms_db[0]),
            ("length (s)", *self.seconds, self.seconds[1] - self.seconds[0]),
        ]

    def to_dict(self) -> dict:
        return {
            "spectral_distance": self.spectral_distance,
            "centroid_hz": list(self.centroid_hz),
            "a_weighted_db": list(self.a_weighted_db),
            "rms_db": list(self.rms_db),
            "seconds": list(self.seconds),
        }


def compare_audio(a: np.ndarray, b: np.ndarray, sample_rate: int) -> Comparison:
    """Measure two renders ([n] float, same ``sample_rate``)."""
    return Comparison(
        spectral_distance=spectral_distance(a, b),
        centroid_hz=(spectral_centroid_hz(a, sample_rate), spectral_centroid_hz(b, sample_rate)),
        a_weighted_db=(a_weighted_db(a, sample_rate), a_weighted_db(b, sample_rate)),
        rms_db=(rms_db(a), rms_db(b)),
        seconds=(np.size(a) / sample_rate, np.size(b) / sample_rate),
    )
