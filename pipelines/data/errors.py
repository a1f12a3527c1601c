"""Errors of data preparation; each names the offending file and the problem."""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "AudioReadError",
    "AudioTooShortError",
    "DataError",
    "NoVoicedFramesError",
    "SilentAudioError",
]


class DataError(ValueError):
    """Base class: an input recording can't be used for practice.

    Attributes:
        path: the offending file (``str``), or ``""`` when the problem is the set as a whole.
        problem: what is wrong, as a sentence fragment.
    """

    def __init__(self, path: str | Path, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{path}: {problem}" if self.path else problem)


class AudioReadError(DataError):
    """The file is missing, unreadable, corrupt, empty or holds non-finite samples."""


class SilentAudioError(DataError):
    """Nothing in the file is louder than the silence threshold."""


class AudioTooShortError(DataError):
    """After trimming silence the audio is shorter than one training example
    (or, for a whole set, too short for one training and one held-out example)."""


class NoVoicedFramesError(DataError):
    """The f0 tracker found no pitched frame (noise, speech-like or percussive audio)."""
