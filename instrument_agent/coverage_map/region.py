"""What a coverage map counts as *practised*: the region a performance is checked against.

* a MIDI note is practised when at least :data:`MIN_SECONDS` of voiced training audio lie
  on it (a short note's worth: onsets and glides that cross a note briefly don't count);
  holes of up to :data:`HOLE_SEMITONES` semitones between practised notes count as
  practised too (the decoder bridges a semitone or two; a scale in one key skips some);
* a loudness is practised when it lies within :data:`LOUDNESS_TOLERANCE_DB` of the range
  of the loudness bins that hold at least :data:`MIN_SECONDS` and :data:`MIN_LOUDNESS_SHARE`
  of the voiced audio (the frames of every attack and release pass through soft levels).

A performance *outside the map* plays a note that is not practised (above the highest
practised note, below the lowest, or in a gap) or at a loudness outside that range.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .grid import LOUDNESS_LOW_DB, LOUDNESS_STEP_DB, PITCH_BINS, CoverageMap, pitch_bin

__all__ = [
    "HOLE_SEMITONES",
    "LOUDNESS_TOLERANCE_DB",
    "MIN_LOUDNESS_SHARE",
    "MIN_SECONDS",
    "PractisedRegion",
    "practised_region",
]

MIN_SECONDS = 0.25
MIN_LOUDNESS_SHARE = 0.02
HOLE_SEMITONES = 2
LOUDNESS_TOLERANCE_DB = 3.0


@dataclass(frozen=True)
class PractisedRegion:
    """The practised part of a map.

    Attributes:
        notes: [PITCH_BINS] bool, practised MIDI notes (holes filled).
        loudness_low_db, loudness_high_db: the practised loudness range, dB (tolerance included).
    """

    notes: np.ndarray
    loudness_low_db: float
    loudness_high_db: float

    @cached_property
    def empty(self) -> bool:
        return not bool(self.notes.any())

    @cached_property
    def lowest(self) -> int:
        return int(np.flatnonzero(self.notes)[0])

    @cached_property
    def highest(self) -> int:
        return int(np.flatnonzero(self.notes)[-1])

    def pitch_kind(self, midi: float) -> str:
        """``""`` (practised), ``"pitch-high"``, ``"pitch-low"`` or ``"pitch-gap"`` for a pitch (semitones).

        Plain Python (no numpy call): the agent's audio thread asks it for every note."""
        note = min(max(math.floor(float(midi) + 0.5), 0), PITCH_BINS - 1)
        if self.empty or self.notes[note]:
            return ""
        if note > self.highest:
            return "pitch-high"
        return "pitch-low" if note < self.lowest else "pitch-gap"

    def loudness_kind(self, loudness_db: float) -> str:
        """``""``, ``"loudness-high"`` (louder than practised) or ``"loudness-low"`` (softer)."""
        if self.empty:
            return ""
        if loudness_db > self.loudness_high_db:
            return "loudness-high"
        return "loudness-low" if loudness_db < self.loudness_low_db else ""

    def gap_around(self, midi: float) -> tuple[int, int]:
        """(last practised note below, first practised note above) a gap note."""
        note = int(pitch_bin(midi))
        below = np.flatnonzero(self.notes[:note])
        above = np.flatnonzero(self.notes[note:]) + note
        return int(below[-1]), int(above[0])


def practised_region(coverage: CoverageMap, *, min_seconds: float = MIN_SECONDS) -> PractisedRegion:
    """The :class:`PractisedRegion` of ``coverage`` (see the module's rules)."""
    notes = coverage.pitch_seconds >= min_seconds
    practised = np.flatnonzero(notes)
    for low, high in zip(practised[:-1], practised[1:], strict=True):
        if 1 < high - low <= HOLE_SEMITONES + 1:
            notes[low:high] = True
    loud = np.flatnonzero(coverage.loudness_seconds >= max(min_seconds, MIN_LOUDNESS_SHARE * coverage.voiced_seconds))
    if loud.size == 0:
        return PractisedRegion(np.zeros(PITCH_BINS, bool), 0.0, 0.0)
    low_db = LOUDNESS_LOW_DB + loud[0] * LOUDNESS_STEP_DB - LOUDNESS_TOLERANCE_DB
    high_db = LOUDNESS_LOW_DB + (loud[-1] + 1) * LOUDNESS_STEP_DB + LOUDNESS_TOLERANCE_DB
    return PractisedRegion(notes, float(low_db), float(high_db))
