"""The live state of a MIDI/MPE stream: sounding notes and per-channel controllers.

:class:`MidiState` consumes mido messages in time order and answers two things:
the note events the engine must act on (:class:`NoteEvent`), and, for each
sounding note, its current pitch (semitones, bends applied), pressure,
timbre (CC74) and volume (CC7 × CC11, dB) through :meth:`MidiState.note_values`.

Handled: note on/off (velocity-0 note-on is a note-off), pitch bend with
per-channel ranges (RPN 0) and MPE zones (RPN 6), channel pressure, polyphonic
aftertouch, CC74, CC11, CC7, sustain pedal (CC64), all sound off (CC120,
notes cut with a short fade), reset all controllers (CC121), all notes off
(CC123..127, notes released), and system reset (everything back to power-on).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import mido

from .mpe import MpeZones, RpnTracker

__all__ = ["MidiState", "Note", "NoteEvent"]


@dataclass
class Note:
    """One sounding note.

    Attributes:
        id: serial number, unique within a :class:`MidiState`.
        channel: 0-based MIDI channel. key: MIDI note number 0..127.
        velocity: 1..127. poly_pressure: polyphonic aftertouch 0..1.
        sustained: key released while the sustain pedal is down.
    """

    id: int
    channel: int
    key: int
    velocity: int
    poly_pressure: float = 0.0
    sustained: bool = False


@dataclass(frozen=True)
class NoteEvent:
    """What the engine must do: ``kind`` is ``"on"`` (start a voice), ``"off"``
    (release it with the envelope) or ``"cut"`` (silence it quickly)."""

    kind: str
    note: Note


@dataclass
class _Channel:
    bend: float = 0.0  # -1..1
    pressure: float = 0.0  # 0..1
    timbre: float = 0.5  # CC74 0..1 (64 = centre)
    volume: int = 127  # CC7
    expression: int = 127  # CC11
    sustain: bool = False
    notes: dict[int, Note] = field(default_factory=dict)  # key -> note

    def reset_controllers(self) -> None:
        self.bend = 0.0
        self.pressure = 0.0
        self.timbre = 0.5
        self.expression = 127
        self.sustain = False


def _cc_db(value: int) -> float:
    """MIDI volume/expression curve: 40·log10(v/127) dB (-inf at 0, clipped to -120)."""
    return -120.0 if value <= 0 else max(-120.0, 40.0 * math.log10(value / 127.0))


class MidiState:
    """Sounding notes and controllers of a MIDI or MPE stream.

    Args:
        member_bend_range: semitones of pitch bend on MPE member channels (default 48).
        master_bend_range: semitones on master and plain channels (default 2).
    """

    def __init__(self, member_bend_range: float = 48.0, master_bend_range: float = 2.0):
        self.zones = MpeZones(member_bend_range=member_bend_range, master_bend_range=master_bend_range)
        self._rpn = RpnTracker()
        self._channels = [_Channel() for _ in range(16)]
        self._serial = 0

    # -- reading -----------------------------------------------------------
    @property
    def notes(self) -> list[Note]:
        """Every note still sounding (held or sustained), oldest first."""
        return sorted((n for ch in self._channels for n in ch.notes.values()), key=lambda n: n.id)

    def pitch(self, note: Note) -> float:
        """A note's pitch now, semitones (MIDI key + bends): :meth:`note_values`' first value, alone
        (the engine asks it for every pitch-bend message)."""
        zones = self.zones
        pitch = note.key + self._channels[note.channel].bend * zones.bend_range[note.channel]
        master = zones.master_of(note.channel)
        if master is not None and master != note.channel:
            pitch += self._channels[master].bend * zones.bend_range[master]
        return pitch

    def note_values(self, note: Note) -> tuple[float, float, float, float]:
        """``(pitch, pressure, timbre, volume_db)`` of a note now.

        pitch: semitones (MIDI key + bends). pressure: 0..1 (channel pressure
        or polyphonic aftertouch, whichever is higher; in an MPE zone also the
        master channel's). timbre: CC74 0..1 (0.5 = centre). volume_db: CC7
        and CC11 of the note's channel (and its zone's master), dB.
        """
        channel = self._channels[note.channel]
        zones = self.zones
        pitch = note.key + channel.bend * zones.bend_range[note.channel]
        pressure = max(channel.pressure, note.poly_pressure)
        volume_db = _cc_db(channel.volume) + _cc_db(channel.expression)
        timbre = channel.timbre
        master = zones.master_of(note.channel)
        if master is not None and master != note.channel:
            mch = self._channels[master]
            pitch += mch.bend * zones.bend_range[master]
            pressure = max(pressure, mch.pressure)
            volume_db += _cc_db(mch.volume) + _cc_db(mch.expression)
        return pitch, pressure, timbre, max(volume_db, -120.0)

    # -- writing -----------------------------------------------------------
    def apply(self, msg: mido.Message) -> list[NoteEvent]:
        """Update the state with one message; return the note events it causes."""
        kind = msg.type
        if kind == "reset":
            return self.reset()
        if not hasattr(msg, "channel"):
            return []
        ch = msg.channel
        channel = self._channels[ch]
        if kind == "note_on" and msg.velocity > 0:
            events = []
            old = channel.notes.pop(msg.note, None)
            if old is not None:  # retrigger: the old voice releases
                events.append(NoteEvent("off", old))
            self._serial += 1
            note = Note(id=self._serial, channel=ch, key=msg.note, velocity=msg.velocity)
            channel.notes[msg.note] = note
            events.append(NoteEvent("on", note))
            return events
        if kind in ("note_off", "note_on"):
            note = channel.notes.get(msg.note)
            if note is None:
                return []
            if channel.sustain:
                note.sustained = True
                return []
            del channel.notes[msg.note]
            return [NoteEvent("off", note)]
        if kind == "pitchwheel":
            channel.bend = msg.pitch / (8192.0 if msg.pitch < 0 else 8191.0)
        elif kind == "aftertouch":
            channel.pressure = msg.value / 127.0
        elif kind == "polytouch":
            note = channel.notes.get(msg.note)
            if note is not None:
                note.poly_pressure = msg.value / 127.0
        elif kind == "control_change":
            return self._control_change(ch, msg.control, msg.value)
        return []

    def _control_change(self, ch: int, control: int, value: int) -> list[NoteEvent]:
        channel = self._channels[ch]
        rpn = self._rpn.control_change(ch, control, value)
        if rpn is not None:
            number, msb, lsb = rpn
            if number == 0:  # pitch-bend sensitivity: semitones + cents
                self.zones.bend_range[ch] = msb + lsb / 100.0
            elif number == 6 and control == 6 and ch in (0, 15):  # MPE configuration message
                events = self._release_channels(range(16), cut=False) if msb != self._members(ch) else []
                self.zones.configure(ch, msb)
                return events
            return []
        if control == 74:
            channel.timbre = value / 127.0
        elif control == 11:
            channel.expression = value
        elif control == 7:
            channel.volume = value
        elif control == 64:
            channel.sustain = value >= 64
            if not channel.sustain:
                released = [n for n in channel.notes.values() if n.sustained]
                for note in released:
                    del channel.notes[note.key]
                return [NoteEvent("off", n) for n in released]
        elif control == 120:  # all sound off
            return self._release_channels(self._scope(ch), cut=True)
        elif control == 121:  # reset all controllers
            for c in self._scope(ch):
                self._channels[c].reset_controllers()
        elif control >= 123:  # all notes off (and the omni/poly mode messages, which imply it)
            return self._release_channels(self._scope(ch), cut=False)
        return []

    def _members(self, master: int) -> int:
        return self.zones.lower_members if master == 0 else self.zones.upper_members

    def _scope(self, ch: int) -> list[int]:
        """A channel message on an MPE master channel applies to its whole zone."""
        if self.zones.master_of(ch) == ch:
            return [c for c in range(16) if self.zones.master_of(c) == ch]
        return [ch]

    def _release_channels(self, channels, *, cut: bool) -> list[NoteEvent]:
        events = []
        for c in channels:
            channel = self._channels[c]
            channel.sustain = False
            for note in sorted(channel.notes.values(), key=lambda n: n.id):
                events.append(NoteEvent("cut" if cut else "off", note))
            channel.notes.clear()
        return events

    def reset(self) -> list[NoteEvent]:
        """System reset: cut every note, forget controllers and MPE zones."""
        events = self._release_channels(range(16), cut=True)
        for channel in self._channels:
            channel.reset_controllers()
            channel.volume = 127
        self.zones.reset()
        self._rpn.reset()
        return events
