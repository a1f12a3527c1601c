"""Per-frame audio features that condition a DDSP decoder: loudness and f0.

Light module: numpy only at import time. The f0 trackers ("pyin", "yin")
import librosa lazily; without it they raise :class:`FeatureDependencyError`
("install amadeus[studio]").

Frame convention (shared by every feature, the training data and the agent):

* ``hop = sample_rate / frame_rate`` samples (the learnerProfile guarantees it
  is a whole number);
* ``T = int(n_samples * frame_rate / sample_rate)`` frames (i.e. floor);
* frame ``t`` is *centred* on sample ``t * hop`` (the signal is zero-padded by
  half a window on both sides), so frame 0 describes the very start.

Loudness convention (:func:`compute_loudness`): A-weighted power in dB
relative to a full-scale sine at 1 kHz (the AES17 "dBFS" reference: a sine of
peak amplitude 1.0 at 1 kHz reads 0 dB, one of amplitude 0.1 reads -20 dB),
floored at ``-range_db`` (-80 dB, DDSP's ``DB_RANGE``). The STFT power is
normalised by the window energy (Parseval), so the value does not depend on
``n_fft`` or the sample rate. This is DDSP's ``compute_loudness`` with
``ref_db`` chosen so that 0 dB is the loudest clean tone, which is what the
decoder's ``loudness_db / 80 + 1`` scaling and the agent's MIDI mapping
(clipped to <= 0 dB) expect.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from instrument_agent.dsp import DB_RANGE

__all__ = [
    "DB_RANGE",
    "F0_METHODS",
    "FeatureDependencyError",
    "UnknownF0MethodError",
    "a_weighting_db",
    "compute_f0",
    "compute_loudness",
    "fill_unvoiced",
    "frame_count",
    "register_f0_method",
]


F0_FMIN_HZ = 32.70  # C1
F0_FMAX_HZ = 2093.0  # C7
_LOUDNESS_CHUNK_FRAMES = 1024


class FeatureDependencyError(ImportError):
    """An f0 tracker needs librosa, which is not installed (``pip install amadeus[studio]``)."""


class UnknownF0MethodError(ValueError):
    """``compute_f0`` was asked for a method that is not registered."""


def frame_count(n_samples: int, sample_rate: int, frame_rate: int) -> int:
    """Number of control frames for ``n_samples``: ``int(n_samples * frame_rate / sample_rate)``."""
    return int(n_samples * frame_rate / sample_rate)


def _hop(sample_rate: int, frame_rate: int) -> int:
    hop = sample_rate / frame_rate
    if hop != int(hop) or hop < 1:
        raise ValueError(f"frame_rate={frame_rate} must divide sample_rate={sample_rate} (whole samples per frame)")
    return int(hop)


def a_weighting_db(frequencies_hz: np.ndarray, min_db: float = -80.0) -> np.ndarray:
    """IEC 61672-1 A-weighting curve, dB (0 dB at 1 kHz), floored at ``min_db``.

    Args:
        frequencies_hz: [...] frequencies in Hz (>= 0).

    Returns:
        [...] float64 gains in dB.
    """
    f2 = np.asarray(frequencies_hz, dtype=np.float64) ** 2
    c1, c2, c3, c4 = 20.598997**2, 107.65265**2, 737.86223**2, 12194.217**2
    with np.errstate(divide="ignore"):
        ra = c4 * f2**2 / ((f2 + c1) * np.sqrt((f2 + c2) * (f2 + c3)) * (f2 + c4))
        db = 20.0 * np.log10(ra) + 2.0
    return np.maximum(db, min_db)


def _frames(audio: np.ndarray, n_frames: int, hop: int, n_fft: int) -> np.ndarray:
    """[n_frames, n_fft] centred, zero-padded frames (a strided view)."""
    padded = np.pad(audio, (n_fft // 2, n_fft // 2 + hop))
    return np.lib.stride_tricks.sliding_window_view(padded, n_fft)[::hop][:n_frames]


def _default_n_fft(hop: int) -> int:
    return max(512, 1 << int(np.ceil(np.log2(2 * hop))))


def compute_loudness(
    audio: np.ndarray,
    sample_rate: int,
    frame_rate: int,
    n_fft: int | None = None,
    range_db: float = DB_RANGE,
) -> np.ndarray:
    """A-weighted loudness per control frame.

    Args:
        audio: [n] float audio (full scale = 1.0).
        sample_rate: Hz.
        frame_rate: control frames per second (must divide ``sample_rate``).
        n_fft: analysis window (Hann) in samples; default the power of two
            >= 2 hops (at least 512).
        range_db: floor below 0 dB.

    Returns:
        [T] float32 loudness in dB re a full-scale 1 kHz sine, in
        ``[-range_db, ~+3]`` (a full-scale square wave reads about +3 dB).
    """
    audio = np.asarray(audio, dtype=np.float64).reshape(-1)
    hop = _hop(sample_rate, frame_rate)
    n_frames = frame_count(audio.size, sample_rate, frame_rate)
    n_fft = n_fft or _default_n_fft(hop)
    window = np.hanning(n_fft + 1)[:-1]  # periodic Hann
    weight = 10.0 ** (a_weighting_db(np.fft.rfftfreq(n_fft, 1.0 / sample_rate)) / 10.0)
    # One-sided spectrum: bins 1..N/2-1 stand for two (Parseval); DC and Nyquist once.
    weight[1 : (n_fft + 1) // 2] *= 2.0
    # mean square of the windowed frame = sum|X|^2 / (N * sum(w^2)); x2 makes a full-scale sine 0 dB.
    scale = 2.0 / (n_fft * np.sum(window**2))
    frames = _frames(audio, n_frames, hop, n_fft)
    power = np.empty(n_frames, dtype=np.float64)
    for start in range(0, n_frames, _LOUDNESS_CHUNK_FRAMES):
        chunk = frames[start : start + _LOUDNESS_CHUNK_FRAMES] * window
        spectrum = np.abs(np.fft.rfft(chunk, axis=-1)) ** 2
        power[start : start + len(chunk)] = spectrum @ weight * scale
    loudness = 10.0 * np.log10(np.maximum(power, 1e-20))
    return np.maximum(loudness, -range_db).astype(np.float32)


# -- f0 ----------------------------------------------------------------------
F0Method = Callable[[np.ndarray, int, int], tuple[np.ndarray, np.ndarray]]
"""``fn(audio [n] float32, sample_rate, frame_rate) -> (f0_hz [>=T], confidence [>=T])``: f0 in Hz with NaN
where unvoiced, confidence in 0..1."""


def _librosa():
    try:
        import librosa
    except ImportError as exc:
        raise FeatureDependencyError(
            f"f0 tracking needs librosa, which is not installed ({exc}); install amadeus[studio]"
        ) from None
    return librosa


def _frame_length(sample_rate: int) -> int:
    """A power-of-two analysis window of at least 64 ms (two periods of C1 fit in its lag range)."""
    return 1 << int(np.ceil(np.log2(0.064 * sample_rate)))


def _tracker_settings(sample_rate: int, frame_rate: int) -> dict:
    """librosa's pyin/yin arguments: one hop per control frame, centred frames, the pitch range
    (fmin raised so at least two periods fit in half a frame, fmax at most a quarter of the rate)."""
    frame_length = _frame_length(sample_rate)
    return {
        "fmin": max(F0_FMIN_HZ, 1.05 * sample_rate / (frame_length // 2 - 1)),
        "fmax": min(F0_FMAX_HZ, sample_rate / 4),
        "sr": sample_rate,
        "frame_length": frame_length,
        "hop_length": _hop(sample_rate, frame_rate),
        "center": True,
        "pad_mode": "constant",
    }


def _f0_pyin(audio: np.ndarray, sample_rate: int, frame_rate: int) -> tuple[np.ndarray, np.ndarray]:
    f0, voiced, probability = _librosa().pyin(audio, **_tracker_settings(sample_rate, frame_rate))
    f0 = np.where(voiced, f0, np.nan)
    return f0, np.where(voiced, probability, np.minimum(probability, 0.2))


def _periodicity(audio: np.ndarray, f0: np.ndarray, hop: int, frame_length: int, sample_rate: int) -> np.ndarray:
    """Normalised autocorrelation at the estimated period, per frame, in 0..1."""
    frames = _frames(audio.astype(np.float64), len(f0), hop, frame_length)
    out = np.zeros(len(f0))
    half = frame_length // 2
    for t, hz in enumerate(f0):
        if not np.isfinite(hz) or hz <= 0:
            continue
        lag = int(round(sample_rate / hz))
        if lag >= half:
            continue
        a, b = frames[t, :half], frames[t, lag : lag + half]
        denom = np.sqrt(np.dot(a, a) * np.dot(b, b))
        out[t] = np.dot(a, b) / denom if denom > 1e-12 else 0.0
    return np.clip(out, 0.0, 1.0)


def _f0_yin(audio: np.ndarray, sample_rate: int, frame_rate: int) -> tuple[np.ndarray, np.ndarray]:
    settings = _tracker_settings(sample_rate, frame_rate)
    f0 = _librosa().yin(audio, **settings)
    confidence = _periodicity(audio, f0, settings["hop_length"], settings["frame_length"], sample_rate)
    return np.where(confidence >= 0.5, f0, np.nan), confidence


F0_METHODS: dict[str, F0Method] = {"pyin": _f0_pyin, "yin": _f0_yin}
"""Registered f0 trackers by name (see :data:`F0Method` for the signature)."""


def register_f0_method(name: str, method: F0Method) -> None:
    """Add (or replace) an f0 tracker usable as ``compute_f0(..., method=name)``."""
    F0_METHODS[name] = method


def fill_unvoiced(f0_hz: np.ndarray) -> np.ndarray:
    """Replace NaN / non-positive f0 by linear interpolation between voiced
    neighbours (held constant before the first and after the last voiced frame).

    Args:
        f0_hz: [T] Hz with NaN (or <= 0) where unvoiced.

    Returns:
        [T] float32 Hz; all zeros when no frame is voiced.
    """
    f0 = np.asarray(f0_hz, dtype=np.float64)
    voiced = np.isfinite(f0) & (f0 > 0)
    if not voiced.any():
        return np.zeros(f0.shape, dtype=np.float32)
    index = np.arange(f0.size)
    return np.interp(index, index[voiced], f0[voiced]).astype(np.float32)


def compute_f0(
    audio: np.ndarray,
    sample_rate: int,
    frame_rate: int,
    method: str = "pyin",
) -> tuple[np.ndarray, np.ndarray]:
    """Fundamental frequency and voicing confidence per control frame.

    DDSP conditions on a continuous pitch curve, so unvoiced frames carry the
    f0 interpolated from their voiced neighbours (:func:`fill_unvoiced`) and a
    low confidence.

    Args:
        audio: [n] float audio (mono).
        sample_rate: Hz.
        frame_rate: control frames per second (must divide ``sample_rate``).
        method: a key of :data:`F0_METHODS` ("pyin" default, "yin").

    Returns:
        ``(f0_hz [T] float32 Hz, confidence [T] float32 in 0..1)``; f0 is all
        zeros when nothing is voiced. T as :func:`frame_count`.

    Raises:
        UnknownF0MethodError, FeatureDependencyError (librosa missing).
    """
    try:
        tracker = F0_METHODS[method]
    except KeyError:
        raise UnknownF0MethodError(f"unknown f0 method {method!r} (known: {', '.join(sorted(F0_METHODS))})") from None
    audio = np.asarray(audio, dtype=np.float32).reshape(-1)
    n_frames = frame_count(audio.size, sample_rate, frame_rate)
    f0, confidence = tracker(audio, sample_rate, frame_rate)
    f0 = np.asarray(f0, dtype=np.float64)[:n_frames]
    confidence = np.nan_to_num(np.asarray(confidence, dtype=np.float64)[:n_frames])
    if f0.size < n_frames:  # a tracker that returned fewer frames: hold the last value
        pad = n_frames - f0.size
        f0 = np.concatenate([f0, np.full(pad, np.nan)])
        confidence = np.concatenate([confidence, np.zeros(pad)])
    return fill_unvoiced(f0), np.clip(confidence, 0.0, 1.0).astype(np.float32)
