"""Practice material as notes: melodic phrases over a pitch range and a range of
dynamics, as a list of :class:`Note` (for the synthesized voice) or a MIDI file
(for a soundfont).

Phrases are random walks on a diatonic scale with occasional leaps, mixed
legato/detached articulation, swelling or fading dynamics and rests between
phrases, so every stretch of the result (and so the held-out end) covers the
whole range.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from instrument_agent.dsp import midi_to_hz

__all__ = ["Note", "practice_score", "write_midi"]

_MAJOR = (0, 2, 4, 5, 7, 9, 11)
_DURATIONS_BEATS = (0.5, 0.75, 1.0, 1.0, 1.5, 2.0, 3.0)


@dataclass(frozen=True)
class Note:
    """One note of a monophonic line.

    Attributes:
        start_s, end_s: onset and release times (s).
        pitch: MIDI note number.
        dynamic: 0 (pianissimo) .. 1 (fortissimo).
        legato: slurred from the previous note (no re-articulation).
    """

    start_s: float
    end_s: float
    pitch: int
    dynamic: float
    legato: bool

    @property
    def f0_hz(self) -> float:
        return float(midi_to_hz(self.pitch))

    @property
    def velocity(self) -> int:
        return int(np.clip(round(20 + 107 * self.dynamic), 1, 127))


def practice_score(
    seconds: float,
    *,
    low: int = 50,
    high: int = 79,
    tonic: int = 2,
    tempo_bpm: float = 96.0,
    seed: int = 0,
) -> list[Note]:
    """Phrases until ``seconds`` are filled.

    Args:
        seconds: total length (s).
        low, high: MIDI pitch range (inclusive).
        tonic: pitch class of the major scale used (2 = D major).
        tempo_bpm: beats per minute.
        seed: random seed (same seed, same score).

    Returns:
        Notes in time order; the last ends before ``seconds``.
    """
    rng = np.random.default_rng(seed)
    scale = [p for p in range(low, high + 1) if (p - tonic) % 12 in _MAJOR]
    beat = 60.0 / tempo_bpm
    notes: list[Note] = []
    t = 0.25
    degree = int(rng.integers(len(scale)))
    while True:
        n_notes = int(rng.integers(4, 10))
        start_dyn, end_dyn = rng.uniform(0.1, 1.0, size=2)
        legato_phrase = rng.random() < 0.5
        phrase: list[Note] = []
        for i in range(n_notes):
            step = int(rng.choice([-2, -1, -1, 1, 1, 2, 3, -3, 4, -4, 7, -7], p=None))
            degree = int(np.clip(degree + step, 0, len(scale) - 1))
            if degree in (0, len(scale) - 1) and rng.random() < 0.5:  # bounce off the range edges
                degree = int(rng.integers(len(scale) // 4, 3 * len(scale) // 4))
            length = float(rng.choice(_DURATIONS_BEATS)) * beat
            dynamic = float(
                np.clip(start_dyn + (end_dyn - start_dyn) * i / max(n_notes - 1, 1) + rng.normal(0, 0.05), 0.02, 1.0)
            )
            legato = bool(i > 0 and (legato_phrase or rng.random() < 0.2))
            gap = 0.0 if legato else float(rng.uniform(0.03, 0.12))
            start = t + gap
            end = start + length - (0.0 if legato_phrase else float(rng.uniform(0.03, 0.1)))
            if end > seconds - 0.3:
                notes.extend(phrase)
                return notes
            phrase.append(Note(start, end, scale[degree], dynamic, legato))
            t = end
        notes.extend(phrase)
        t += float(rng.uniform(0.3, 1.0))


def write_midi(
    notes: list[Note], path: str | Path, *, program: int = 40, tempo_bpm: float = 120.0, expression: bool = False
) -> Path:
    """Write ``notes`` as a one-track MIDI file (General MIDI ``program`` 0-127,
    e.g. 40 violin, 42 cello, 71 clarinet, 56 trumpet), atomically.

    Legato notes overlap their predecessor by 10 ms, as a keyboard player's
    slur would. Velocity follows the dynamics; with ``expression`` CC11 does too.
    """
    import mido

    path = Path(path)
    ticks_per_beat = 480
    tempo = mido.bpm2tempo(tempo_bpm)
    to_ticks = lambda s: int(round(mido.second2tick(s, ticks_per_beat, tempo)))  # noqa: E731
    events: list[tuple[int, int, mido.Message]] = []  # (tick, order, message)
    for i, note in enumerate(notes):
        end = note.end_s
        if i + 1 < len(notes) and notes[i + 1].legato:
            end = notes[i + 1].start_s + 0.01
        if expression:
            cc11 = mido.Message("control_change", control=11, value=int(60 + 67 * note.dynamic))
            events.append((to_ticks(note.start_s), 1, cc11))
        events.append((to_ticks(note.start_s), 2, mido.Message("note_on", note=note.pitch, velocity=note.velocity)))
        events.append((to_ticks(end), 0, mido.Message("note_off", note=note.pitch, velocity=64)))
    events.sort(key=lambda e: (e[0], e[1]))
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("set_tempo", tempo=tempo, time=0))
    track.append(mido.Message("program_change", program=program, time=0))
    last = 0
    for tick, _, message in events:
        track.append(message.copy(time=tick - last))
        last = tick
    track.append(mido.MetaMessage("end_of_track", time=ticks_per_beat))
    midi = mido.MidiFile(ticks_per_beat=ticks_per_beat)
    midi.tracks.append(track)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{uuid.uuid4().hex[:8]}.tmp"
    try:
        midi.save(str(tmp))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
