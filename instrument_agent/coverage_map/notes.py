"""Note names: MIDI 60 is C4, 69 is A4 (scientific pitch notation)."""

from __future__ import annotations

__all__ = ["NOTE_NAMES", "note_name"]

NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


def note_name(midi: float) -> str:
    """The name of the nearest MIDI note, e.g. ``note_name(88) == "E6"``, ``note_name(61) == "C#4"``."""
    note = int(round(float(midi)))
    return f"{NOTE_NAMES[note % 12]}{note // 12 - 1}"
