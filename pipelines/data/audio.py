"""Loading recordings: any format soundfile reads, any rate and channel count,
to mono float32 at the learnerProfile's sample rate, with silence trimmed.

Reading and resampling are :mod:`instrument_agent.audio`'s (one loader, one
resampler for the project); this module adds silence trimming and the data errors."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from instrument_agent.audio import AudioFileError, read_mono
from instrument_agent.audio import resample as _resample

from .errors import AudioReadError, SilentAudioError

__all__ = ["LoadedAudio", "load_audio", "resample", "trim_silence"]

SILENCE_DB = -60.0
"""Frames whose RMS is below this (dB re full scale) count as silence."""

_TRIM_WINDOW_S = 0.02
_TRIM_MARGIN_S = 0.05


@dataclass(frozen=True)
class LoadedAudio:
    """One recording, ready for feature extraction.

    Attributes:
        audio: [n] float32 mono at ``sample_rate``, silence trimmed.
        sample_rate: Hz (the learnerProfile's).
        source_sample_rate: Hz of the file.
        source_channels: channels in the file (mixed down by averaging).
        start_s, end_s: the kept span, in seconds of the original file.
    """

    audio: np.ndarray
    sample_rate: int
    source_sample_rate: int
    source_channels: int
    start_s: float
    end_s: float

    @property
    def seconds(self) -> float:
        return self.audio.size / self.sample_rate


def resample(audio: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """Band-limited resampling with libsoxr (:func:`instrument_agent.audio.resample`).

    Args:
        audio: [n] or [n, channels] float.

    Returns:
        float32 audio at ``to_rate`` (same channel layout).
    """
    return _resample(audio, from_rate, to_rate)


def trim_silence(audio: np.ndarray, sample_rate: int, silence_db: float = SILENCE_DB) -> tuple[int, int]:
    """The ``[start, end)`` sample span between the first and last non-silent
    20 ms window, widened by 50 ms each side; ``(0, 0)`` when all is silent.

    Args:
        audio: [n] float mono.
    """
    window = max(1, int(_TRIM_WINDOW_S * sample_rate))
    n_windows = audio.size // window
    if n_windows == 0:
        loud = np.array([np.sqrt(np.mean(np.square(audio, dtype=np.float64)))]) if audio.size else np.zeros(0)
        window = max(audio.size, 1)
    else:
        frames = audio[: n_windows * window].astype(np.float64).reshape(n_windows, window)
        loud = np.sqrt(np.mean(frames**2, axis=1))
        tail = audio[n_windows * window :]
        if tail.size:
            loud = np.append(loud, np.sqrt(np.mean(tail.astype(np.float64) ** 2)))
    above = np.flatnonzero(loud > 10.0 ** (silence_db / 20.0))
    if above.size == 0:
        return 0, 0
    margin = int(_TRIM_MARGIN_S * sample_rate)
    start = max(0, above[0] * window - margin)
    end = min(audio.size, (above[-1] + 1) * window + margin)
    return int(start), int(end)


def load_audio(path: str | Path, sample_rate: int, *, silence_db: float = SILENCE_DB) -> LoadedAudio:
    """Read ``path`` (wav/flac/ogg/aiff... anything libsndfile reads), mix down
    to mono, resample to ``sample_rate`` and trim leading/trailing silence.

    Raises:
        AudioReadError: missing, unreadable/corrupt, empty, or non-finite samples.
        SilentAudioError: nothing above ``silence_db``.
    """
    try:
        recording = read_mono(path)
    except AudioFileError as exc:
        raise AudioReadError(exc.path, exc.problem) from None
    mono, file_rate = recording.audio, recording.sample_rate
    start, end = trim_silence(mono, file_rate, silence_db)
    if end <= start:
        peak = float(np.abs(mono).max())
        level = f"{20 * np.log10(peak):.1f} dB" if peak > 0 else "digital silence"
        raise SilentAudioError(path, f"is silent (peak {level}, threshold {silence_db:g} dB re full scale)")
    audio = resample(mono[start:end], file_rate, sample_rate)
    return LoadedAudio(
        audio=np.ascontiguousarray(audio, dtype=np.float32),
        sample_rate=int(sample_rate),
        source_sample_rate=int(file_rate),
        source_channels=recording.source_channels,
        start_s=start / file_rate,
        end_s=end / file_rate,
    )
