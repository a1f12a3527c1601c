"""Reading Standard MIDI Files into timed channel messages (mido)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import mido

from .errors import MidiFileError

__all__ = ["MidiPerformance", "read_midi"]


@dataclass(frozen=True)
class MidiPerformance:
    """The channel messages of a MIDI file on one time line.

    Attributes:
        path: the file.
        events: ``(time_s, message)`` pairs, time-ordered (tempo changes applied).
        duration_s: time of the last event, seconds.
    """

    path: str
    events: list[tuple[float, mido.Message]]
    duration_s: float

    @property
    def note_count(self) -> int:
        return sum(1 for _, msg in self.events if msg.type == "note_on" and msg.velocity > 0)


def read_midi(path: str | Path) -> MidiPerformance:
    """Read a Standard MIDI File (type 0, 1 or 2).

    Raises :class:`MidiFileError` naming the file for a missing, empty,
    truncated or malformed file, or one holding no notes.
    """
    path = str(path)
    if not Path(path).is_file():
        raise MidiFileError(path, "no such MIDI file")
    try:
        midi = mido.MidiFile(path, clip=False)
        events: list[tuple[float, mido.Message]] = []
        now = 0.0
        for msg in midi:  # merged tracks, delta times in seconds
            now += msg.time
            if not msg.is_meta and msg.type != "sysex":
                events.append((now, msg.copy(time=0)))
    except EOFError:
        raise MidiFileError(path, "MIDI file is truncated (ends in the middle of a chunk or event)") from None
    except (OSError, ValueError, KeyError, IndexError, TypeError) as exc:
        raise MidiFileError(path, f"not a valid Standard MIDI File ({exc or type(exc).__name__})") from None
    if not any(msg.type == "note_on" and msg.velocity > 0 for _, msg in events):
        raise MidiFileError(path, "MIDI file holds no notes")
    return MidiPerformance(path=path, events=events, duration_s=now)
