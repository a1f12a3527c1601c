"""Errors raised while reading MIDI or mapping it to a personality."""

from __future__ import annotations

__all__ = ["MidiError", "MidiFileError", "NoteRangeError"]


class MidiError(ValueError):
    """Base class of MIDI input errors."""


class MidiFileError(MidiError):
    """A MIDI file is missing, truncated or not valid Standard MIDI; ``path`` names it."""

    def __init__(self, path: str, problem: str):
        super().__init__(f"{path}: {problem}")
        self.path = path


class NoteRangeError(MidiError):
    """A note cannot be played by the personality (its pitch is above the model's Nyquist)."""

    def __init__(self, source: str, key: int, time_s: float, f0_hz: float, limit_hz: float):
        super().__init__(
            f"{source}: note {key} at {time_s:.3f} s sounds at {f0_hz:.1f} Hz, above what this personality "
            f"can play ({limit_hz:.0f} Hz, half its training sample rate); transpose it down"
        )
        self.key = key
        self.time_s = time_s
