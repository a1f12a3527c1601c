"""A coverage map in words: the practised range, its gaps, and what to record next."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from .grid import CoverageMap
from .notes import note_name
from .region import LOUDNESS_TOLERANCE_DB, practised_region

__all__ = ["CoverageSummary", "summarize"]

_SUGGEST_SPAN = 7  # semitones suggested above/below the range when there is no gap


@dataclass(frozen=True)
class CoverageSummary:
    """What :func:`summarize` finds. Notes are MIDI numbers; names are e.g. ``"E6"``.

    ``gaps`` are [first, last] unpractised notes inside the range (runs longer than the holes
    the region fills); ``soft_missing`` / ``loud_missing`` say that velocities the playerProfile
    maps below / above the practised loudness were never practised.
    """

    practised: bool
    voiced_seconds: float
    lowest: int = 0
    highest: int = 0
    loudness_low_db: float = 0.0
    loudness_high_db: float = 0.0
    gaps: list[list[int]] = field(default_factory=list)
    soft_missing: bool = False
    loud_missing: bool = False
    suggestion: str = ""

    @property
    def range_names(self) -> str:
        return f"{note_name(self.lowest)}–{note_name(self.highest)}" if self.practised else ""

    def to_dict(self) -> dict:
        return {
            **asdict(self),
            "lowest_name": note_name(self.lowest) if self.practised else "",
            "highest_name": note_name(self.highest) if self.practised else "",
            "gap_names": [[note_name(a), note_name(b)] for a, b in self.gaps],
            "lines": self.lines(),
        }

    def lines(self) -> list[str]:
        """The summary as sentences (for ``amadeus personalities show`` and the UI)."""
        if not self.practised:
            return ["no practised notes recorded (a personality made before coverage maps, or silent training audio)"]
        lines = [
            f"practised {self.voiced_seconds:.1f} s of voiced audio on notes {self.range_names} "
            f"(MIDI {self.lowest}–{self.highest}, {self.highest - self.lowest + 1} semitones)",
            f"loudness practised from {self.loudness_low_db + LOUDNESS_TOLERANCE_DB:.0f} to "
            f"{self.loudness_high_db - LOUDNESS_TOLERANCE_DB:.0f} dB",
        ]
        if self.gaps:
            names = ", ".join(note_name(a) if a == b else f"{note_name(a)}–{note_name(b)}" for a, b in self.gaps)
            lines.append(f"gaps (never practised inside the range): {names}")
        else:
            lines.append("no gaps inside the range")
        if self.suggestion:
            lines.append(f"next: {self.suggestion}")
        return lines


def _gaps(notes: np.ndarray, low: int, high: int) -> list[list[int]]:
    gaps, start = [], None
    for note in range(low, high + 1):
        if not notes[note] and start is None:
            start = note
        elif notes[note] and start is not None:
            gaps.append([start, note - 1])
            start = None
    return gaps


def summarize(
    coverage: CoverageMap | None, *, reference_db: float | None = None, velocity_db_range: float = 30.0
) -> CoverageSummary:
    """Summarise ``coverage`` (None: a personality without a map).

    Args:
        reference_db: the loudness of a full-velocity note (the training data's loudest,
            ``feature_stats.loudness_db_max``); default: the practised maximum.
        velocity_db_range: dB between velocity 127 and 1 (the playerProfile's ``mpe.velocity_db_range``).
    """
    if coverage is None:
        return CoverageSummary(False, 0.0)
    region = practised_region(coverage)
    if region.empty:
        return CoverageSummary(False, coverage.voiced_seconds)
    low, high = region.lowest, region.highest
    gaps = _gaps(region.notes, low, high)
    reference = region.loudness_high_db - LOUDNESS_TOLERANCE_DB if reference_db is None else float(reference_db)
    soft_missing = reference - velocity_db_range < region.loudness_low_db
    loud_missing = reference > region.loudness_high_db
    if gaps:
        widest = max(gaps, key=lambda g: g[1] - g[0])
        pitch = f"record notes between {note_name(widest[0])} and {note_name(widest[1])}"
    else:
        above = min(high + _SUGGEST_SPAN, 127)
        pitch = f"record notes between {note_name(high + 1)} and {note_name(above)}" if high < 127 else ""
    dynamics = [d for d, missing in (("soft", soft_missing), ("loud", loud_missing)) if missing]
    parts = [p for p in (pitch, f"{' and '.join(dynamics)} dynamics" if dynamics else "") if p]
    return CoverageSummary(
        practised=True,
        voiced_seconds=coverage.voiced_seconds,
        lowest=low,
        highest=high,
        loudness_low_db=region.loudness_low_db,
        loudness_high_db=region.loudness_high_db,
        gaps=gaps,
        soft_missing=bool(soft_missing),
        loud_missing=bool(loud_missing),
        suggestion=", ".join(parts),
    )
