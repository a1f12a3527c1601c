"""Reading recordings and changing their sample rate: the one audio loader and resampler of the project.

Any format libsndfile reads (WAV, FLAC, OGG/Vorbis, AIFF, ...; detected from the
content, not the file name), any channel count, mixed down to mono float32 and
resampled with libsoxr. Light on purpose (numpy, soundfile, soxr), so the agent
uses it as the studio and the pipelines do. Every failure is an
:class:`AudioFileError` whose message starts with the file's path.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "AudioFileError",
    "EmptyAudioError",
    "MonoAudio",
    "NonFiniteAudioError",
    "UnreadableAudioError",
    "read_mono",
    "resample",
]

# libsoxr's "HQ" (linear phase, 20-bit) is the resampler. Measured on this machine (2 shared cores) on a
# 3-minute linear sweep 20 Hz..22 kHz at 44.1 kHz, against the ideal band-limited sweep at the target rate
# (error below 0.9 x Nyquist; aliasing = what is left where the sweep is above the new Nyquist):
#   to 16 kHz:  soxr HQ 36 ms (4900x real time), error -72.8 dB, aliasing -141 dB
#               librosa.resample (default soxr_hq) 37 ms, the same figures (it calls soxr)
#               librosa polyphase (scipy) 89 ms, -40.9 dB, aliasing -31 dB; numpy FFT 424 ms, -64.8 dB, -64 dB
#   to 48 kHz:  soxr HQ 82 ms (2200x), -76.5 dB; librosa default 98 ms, -76.5 dB; polyphase 106 ms, -37.8 dB;
#               numpy FFT 690 ms, -78.9 dB (but it needs the whole signal in one FFT and wraps its edges)
# soxr VHQ buys 2 dB of error for 20 % more time. So: soxr directly, without librosa (and its numba/scipy).
_QUALITY = "HQ"


class AudioFileError(ValueError):
    """An audio file can't be used; the message is ``"<path>: <problem>"``.

    Attributes:
        path: the file (``str``).
        problem: what is wrong, as a sentence fragment.
    """

    def __init__(self, path: str | Path, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{path}: {problem}")


class UnreadableAudioError(AudioFileError):
    """The file is missing, not audio, corrupt or truncated."""


class EmptyAudioError(AudioFileError):
    """The file is valid audio with no samples in it."""


class NonFiniteAudioError(AudioFileError):
    """Some samples are NaN or infinite (a corrupt float file). ``count``: how many."""

    def __init__(self, path: str | Path, count: int, first_s: float):
        self.count = count
        samples = "1 sample is" if count == 1 else f"{count} samples are"
        super().__init__(path, f"{samples} NaN or infinite (the first at {first_s:.3f} s)")


@dataclass(frozen=True)
class MonoAudio:
    """One recording, mixed down to mono.

    Attributes:
        audio: [n] float32 mono at ``sample_rate``, finite.
        sample_rate: Hz of ``audio``.
        source_sample_rate: Hz of the file.
        source_channels: channels in the file (mixed down by averaging).
    """

    audio: np.ndarray
    sample_rate: int
    source_sample_rate: int
    source_channels: int

    @property
    def seconds(self) -> float:
        return self.audio.size / self.sample_rate


def resample(audio: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """Band-limited resampling with libsoxr (high quality, linear phase; see the figures above).

    Args:
        audio: [n] or [n, channels] float samples at ``from_rate`` Hz.
        from_rate / to_rate: Hz, > 0.

    Returns:
        float32 audio at ``to_rate`` ([round(n * to_rate / from_rate)] or [that, channels]).
    """
    samples = np.asarray(audio, dtype=np.float32)
    if from_rate <= 0 or to_rate <= 0:
        raise ValueError(f"resample: sample rates must be > 0 Hz (got {from_rate} -> {to_rate})")
    if from_rate == to_rate or samples.shape[0] == 0:
        return samples
    import soxr

    return np.asarray(soxr.resample(samples, from_rate, to_rate, quality=_QUALITY), dtype=np.float32)


def read_mono(path: str | Path, sample_rate: int | None = None) -> MonoAudio:
    """Read ``path``, mix it down to mono and (when ``sample_rate`` is given) resample it.

    Args:
        path: any file libsndfile reads; the format comes from its content.
        sample_rate: Hz to resample to; None keeps the file's rate.

    Returns:
        A :class:`MonoAudio` ([n] float32).

    Raises:
        UnreadableAudioError: missing, not audio, corrupt or truncated.
        EmptyAudioError: no samples.
        NonFiniteAudioError: NaN or infinite samples.
    """
    import soundfile

    path = Path(path)
    if not path.is_file():
        raise UnreadableAudioError(path, "no such audio file")
    try:
        data, file_rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except (RuntimeError, ValueError, OSError, soundfile.LibsndfileError) as exc:
        raise UnreadableAudioError(path, f"not a readable audio file ({exc})") from None
    if data.size == 0:
        raise EmptyAudioError(path, "holds no audio samples")
    finite = np.isfinite(data)
    if not finite.all():
        first_frame = int(np.argmin(finite.all(axis=1)))
        raise NonFiniteAudioError(path, int(data.size - np.count_nonzero(finite)), first_frame / file_rate)
    mono = data.mean(axis=1) if data.shape[1] > 1 else data[:, 0]
    rate = int(sample_rate or file_rate)
    return MonoAudio(
        audio=np.ascontiguousarray(resample(mono, file_rate, rate)),
        sample_rate=rate,
        source_sample_rate=int(file_rate),
        source_channels=int(data.shape[1]),
    )
