"""Write the bundled MIDI phrase, ``instrument_agent/compare/phrase.mid``.

Run ``python -m pipelines.demo.make_phrase`` to regenerate it; the file is
committed as the agent's package data (``amadeus personalities compare`` and the
web A/B view play it without the pipelines installed; the demo renders it too).
An eight-bar cantabile in D major within the demo voice's training range
(D3-G5), with slurs, détaché notes and a crescendo to the high point: it shows
pitch tracking, dynamics and articulation.
"""

from __future__ import annotations

from pathlib import Path

from instrument_agent.compare import DEMO_PHRASE

from .score import Note, write_midi

__all__ = ["PHRASE_PATH", "phrase_notes", "write_phrase"]

PHRASE_PATH: Path = DEMO_PHRASE
"""The one copy of the phrase, in the agent's package (the agent install has no pipelines)."""

# (pitch, beats, dynamic 0..1, slurred to the previous note)
_THEME = [
    (62, 1.0, 0.35, False),
    (66, 1.0, 0.40, True),
    (69, 2.0, 0.45, True),
    (71, 0.5, 0.50, False),
    (69, 0.5, 0.50, False),
    (67, 0.5, 0.50, False),
    (66, 0.5, 0.45, False),
    (64, 2.0, 0.40, True),
    (62, 1.0, 0.45, False),
    (64, 1.0, 0.50, True),
    (66, 1.0, 0.55, True),
    (69, 1.0, 0.60, True),
    (74, 3.0, 0.75, False),
    (None, 1.0, 0.0, False),
    (76, 1.0, 0.80, False),
    (78, 1.0, 0.85, True),
    (79, 2.0, 0.95, True),
    (76, 0.5, 0.80, False),
    (74, 0.5, 0.75, False),
    (71, 0.5, 0.70, False),
    (69, 0.5, 0.65, False),
    (67, 2.0, 0.55, True),
    (66, 1.0, 0.45, False),
    (64, 1.0, 0.40, True),
    (57, 1.0, 0.35, False),
    (61, 1.0, 0.35, True),
    (62, 4.0, 0.30, False),
]


def phrase_notes(tempo_bpm: float = 84.0) -> list[Note]:
    """The theme as notes (détaché notes leave a short gap before the next)."""
    beat = 60.0 / tempo_bpm
    notes: list[Note] = []
    t = 0.2
    for pitch, beats, dynamic, slur in _THEME:
        length = beats * beat
        if pitch is not None:
            notes.append(Note(t, t + length, pitch, dynamic, slur and bool(notes)))
        t += length
    return [
        Note(
            n.start_s,
            n.end_s if i + 1 == len(notes) or notes[i + 1].legato else n.end_s - 0.06,
            n.pitch,
            n.dynamic,
            n.legato,
        )
        for i, n in enumerate(notes)
    ]


def write_phrase(path: str | Path = PHRASE_PATH) -> Path:
    """Write the phrase (General MIDI program 41, viola) to ``path``."""
    return write_midi(phrase_notes(), path, program=41, tempo_bpm=84.0)


if __name__ == "__main__":
    print(write_phrase())
