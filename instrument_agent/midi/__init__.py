"""MIDI and MPE input: reading files, following the stream's state, mapping notes to controls."""

from .errors import MidiError, MidiFileError, NoteRangeError
from .mapping import ControlMapping, midi_to_hz
from .mpe import MpeZones, RpnTracker
from .reader import MAX_PERFORMANCE_S, MidiPerformance, read_midi
from .state import MidiState, Note, NoteEvent

__all__ = [
    "MAX_PERFORMANCE_S",
    "ControlMapping",
    "MidiError",
    "MidiFileError",
    "MidiPerformance",
    "MidiState",
    "MpeZones",
    "Note",
    "NoteEvent",
    "NoteRangeError",
    "RpnTracker",
    "midi_to_hz",
    "read_midi",
]
