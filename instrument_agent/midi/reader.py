"""Reading Standard MIDI Files into timed channel messages (mido)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import mido

from .errors import MidiFileError

__all__ = ["MAX_PERFORMANCE_S", "MidiPerformance", "read_midi"]

MAX_PERFORMANCE_S = 3600.0
"""Longest performance a MIDI file may describe, seconds. An offline render holds its audio in
memory (float32: 691 MB for an hour at 48 kHz), so a file whose only note comes after a gap of
hours is refused with this limit named instead of asking for tens of GiB."""


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


def read_midi(path: str | Path, *, max_duration_s: float = MAX_PERFORMANCE_S) -> MidiPerformance:
    """Read a Standard MIDI File (type 0, 1 or 2).

    Raises :class:`MidiFileError` naming the file for a missing, empty,
    truncated or malformed file, one with 0 ticks per beat, one holding no
    notes, or one lasting longer than ``max_duration_s`` seconds.
    """
    path = str(path)
    if not Path(path).is_file():
        raise MidiFileError(path, "no such MIDI file")
    try:
        midi = mido.MidiFile(path, clip=False)
        if midi.ticks_per_beat <= 0:
            raise MidiFileError(path, f"MIDI header gives {midi.ticks_per_beat} ticks per beat; it must be at least 1")
        events: list[tuple[float, mido.Message]] = []
        now = 0.0
        for msg in midi:  # merged tracks, delta times in seconds
            now += msg.time
            if now > max_duration_s:
                raise MidiFileError(
                    path,
                    f"MIDI file has events at {now / 60:.0f} min, beyond the {max_duration_s / 60:.0f}-minute "
                    "limit of a performance (a gap of hours before a note?)",
                )
            if not msg.is_meta and msg.type != "sysex":
                events.append((now, msg.copy(time=0)))
    except EOFError:
        raise MidiFileError(path, "MIDI file is truncated (ends in the middle of a chunk or event)") from None
    except MidiFileError:
        raise
    except (OSError, ValueError, KeyError, IndexError, TypeError, ZeroDivisionError) as exc:
        raise MidiFileError(path, f"not a valid Standard MIDI File ({exc or type(exc).__name__})") from None
    if not any(msg.type == "note_on" and msg.velocity > 0 for _, msg in events):
        raise MidiFileError(path, "MIDI file holds no notes")
    return MidiPerformance(path=path, events=events, duration_s=now)
