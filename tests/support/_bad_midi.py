"""Generated Standard MIDI Files, playable, odd and broken (a hypothesis strategy).

Each drawn case is ``(name, data, expected)``: ``expected`` is ``"plays"``, ``"refused"`` or
``"either"`` (a mutation that may or may not leave a readable file).
"""

from __future__ import annotations

import io
import struct

import mido
from hypothesis import strategies as st

__all__ = ["midi_files"]


def _smf(tracks: list[bytes], *, ticks_per_beat: int = 480, fmt: int = 1, ntracks: int | None = None) -> bytes:
    header = b"MThd" + struct.pack(">IHHH", 6, fmt, len(tracks) if ntracks is None else ntracks, ticks_per_beat)
    return header + b"".join(b"MTrk" + struct.pack(">I", len(t)) + t for t in tracks)


def _track_bytes(track: mido.MidiTrack) -> bytes:
    midi = mido.MidiFile(ticks_per_beat=480)
    midi.tracks.append(track)
    buffer = io.BytesIO()
    midi.save(file=buffer)
    data = buffer.getvalue()
    return data[14 + 8 :]  # the track chunk's body


def _notes_track(draw: st.DrawFn, count: int, *, together: bool, gap_ticks: int = 0) -> mido.MidiTrack:
    track = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=draw(st.integers(200_000, 1_500_000)), time=0)])
    pitches = [draw(st.integers(21, 108)) for _ in range(min(count, 16))]
    channel = draw(st.integers(0, 15))
    for i in range(count):
        pitch = pitches[i % len(pitches)]
        delay = gap_ticks if i == 0 else (0 if together else draw(st.integers(0, 120)))
        track.append(
            mido.Message("note_on", note=pitch, velocity=draw(st.integers(1, 127)), channel=channel, time=delay)
        )
        if not together:
            track.append(mido.Message("note_off", note=pitch, channel=channel, time=draw(st.integers(1, 120))))
    if together:
        track.append(mido.Message("note_off", note=pitches[0], channel=channel, time=96))
        track.extend(mido.Message("note_off", note=p, channel=channel, time=0) for p in pitches[1:])
    return track


@st.composite
def midi_files(draw: st.DrawFn) -> tuple[str, bytes, str]:
    """One MIDI file: ``(name, bytes, expected)``."""
    kind = draw(
        st.sampled_from(
            [
                "melody",
                "chord",
                "gap-of-hours",
                "ppq-0",
                "zero-tracks",
                "no-notes",
                "truncated",
                "running-status-garbage",
                "random-bytes",
                "flipped",
            ]
        )
    )
    melody = _track_bytes(_notes_track(draw, draw(st.integers(1, 12)), together=False))
    if kind == "melody":
        return "melody.mid", _smf([melody]), "plays"
    if kind == "chord":  # up to 2 000 notes at once: the playerProfile's polyphony limits the voices
        chord = _notes_track(draw, draw(st.integers(100, 2000)), together=True)
        return "chord.mid", _smf([_track_bytes(chord)]), "plays"
    if kind == "gap-of-hours":  # the only note after hours: a clear limit, not a render of hours
        ticks = draw(st.integers(480 * 2 * 3601, 0x0FFFFFFF))  # 2 beats a second at most
        track = _notes_track(draw, 1, together=False, gap_ticks=ticks)
        track[0] = mido.MetaMessage("set_tempo", tempo=draw(st.integers(500_000, 0xFFFFFF)), time=0)
        return "gap.mid", _smf([_track_bytes(track)]), "refused"
    if kind == "ppq-0":
        return "ppq0.mid", _smf([melody], ticks_per_beat=0), "refused"
    if kind == "zero-tracks":
        return "empty-song.mid", _smf([], fmt=draw(st.integers(0, 2)), ntracks=0), "refused"
    if kind == "no-notes":
        meta = _track_bytes(mido.MidiTrack([mido.MetaMessage("track_name", name="x", time=0)]))
        return "silent.mid", _smf([meta]), "refused"
    data = _smf([melody])
    if kind == "truncated":
        return "truncated.mid", data[: draw(st.integers(0, len(data) - 1))], "either"
    if kind == "running-status-garbage":  # data bytes with no status byte before them, then random bytes
        garbage = bytes(draw(st.lists(st.integers(0, 0x7F), min_size=1, max_size=32)))
        body = b"\x00" + garbage + melody
        return "garbage.mid", _smf([body]), "either"
    if kind == "random-bytes":
        return "random.mid", draw(st.binary(min_size=0, max_size=512)), "refused"
    at = draw(st.integers(0, len(data) - 1))
    return "flipped.mid", data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1 :], "either"
