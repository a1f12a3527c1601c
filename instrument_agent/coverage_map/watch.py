"""Warnings when a performance goes outside a personality's coverage map: once per phrase per kind.

A *phrase* starts with the first note, and again with a note that follows at least
:data:`PHRASE_GAP_S` of silence (no note held). Within a phrase each kind of excursion
(:data:`KINDS`: above / below / in a gap of the practised notes, louder / softer than the
practised loudness) warns once, at its first note; later outside notes of the same kind in
that phrase join that warning's list of notes (no new warning). Offline, a render's warnings
therefore name every outside note; live, the first one of each kind is said as it happens.

The note's pitch is the MIDI note plus the playerProfile's transpose, its loudness the
velocity through the playerProfile (:class:`~instrument_agent.midi.mapping.ControlMapping`,
pressure and CC volume not counted): what the decoder is asked to play at its onset.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .grid import CoverageMap
from .notes import note_name
from .region import LOUDNESS_TOLERANCE_DB, PractisedRegion, practised_region

if TYPE_CHECKING:
    import mido

    from instrument_agent.midi.mapping import ControlMapping

__all__ = ["KINDS", "PHRASE_GAP_S", "CoverageWarning", "CoverageWatch"]

PHRASE_GAP_S = 2.0
KINDS = ("pitch-high", "pitch-low", "pitch-gap", "loudness-high", "loudness-low")
_RECENT_NOTES = 64


@dataclass
class CoverageWarning:
    """One warning: ``kind`` (one of :data:`KINDS`), the phrase (1, 2, …) and time (s) of its first
    note, the outside notes of that kind in the phrase (names; with velocity and dB for loudness)
    and ``limit`` (the edge that was crossed: a note name, or a level in dB)."""

    kind: str
    phrase: int
    time_s: float
    limit: str
    notes: list[str] = field(default_factory=list)

    @property
    def message(self) -> str:
        what = {
            "pitch-high": f"notes above {self.limit} were never practised",
            "pitch-low": f"notes below {self.limit} were never practised",
            "pitch-gap": f"notes between {self.limit} were never practised",
            "loudness-high": f"dynamics louder than {self.limit} were never practised",
            "loudness-low": f"dynamics softer than {self.limit} were never practised",
        }[self.kind]
        return f"{what}: {', '.join(self.notes)}"

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "phrase": self.phrase,
            "time_s": round(self.time_s, 3),
            "notes": list(self.notes),
            "message": self.message,
        }


class CoverageWatch:
    """Follows a performance's notes against a coverage map (thread-safe).

    Args:
        coverage: the personality's map (None: no map, the watch stays silent).
        mapping: the engine's :class:`~instrument_agent.midi.mapping.ControlMapping` (transpose,
            velocity → dB); None: pitch is the note, loudness is not checked.
        phrase_gap_s: silence that ends a phrase, s.
    """

    def __init__(
        self, coverage: CoverageMap | None, mapping: ControlMapping | None = None, *, phrase_gap_s: float = PHRASE_GAP_S
    ):
        self.region: PractisedRegion | None = None if coverage is None else practised_region(coverage)
        if self.region is not None and self.region.empty:
            self.region = None
        self.mapping = mapping
        self.phrase_gap_s = phrase_gap_s
        self.warnings: list[CoverageWarning] = []
        self.recent: deque[dict] = deque(maxlen=_RECENT_NOTES)
        self.phrase = 0
        self._held: set[tuple[int, int]] = set()
        self._released_at: float | None = None
        self._current: dict[str, CoverageWarning] = {}
        self._velocity_db: dict[int, float] = {}
        self._lock = threading.Lock()

    @property
    def active(self) -> bool:
        """True when there is a map to check against."""
        return self.region is not None

    # -- notes ---------------------------------------------------------------
    def observe(self, msg: mido.Message, time_s: float) -> list[CoverageWarning]:
        """Follow one MIDI message (mido) at ``time_s``; returns the warnings it raised (new ones only)."""
        if msg.type == "note_on" and msg.velocity > 0:
            return self.note_on(msg.note, msg.velocity, time_s, channel=msg.channel)
        if msg.type in ("note_on", "note_off"):
            self.note_off(msg.note, time_s, channel=msg.channel)
        elif msg.type == "control_change" and msg.control in (120, 123):
            with self._lock:
                self._held = {held for held in self._held if held[0] != msg.channel}
                if not self._held:
                    self._released_at = time_s
        return []

    def note_off(self, note: int, time_s: float, *, channel: int = 0) -> None:
        with self._lock:
            self._held.discard((channel, int(note)))
            if not self._held:
                self._released_at = time_s

    def note_on(self, note: int, velocity: int, time_s: float, *, channel: int = 0) -> list[CoverageWarning]:
        """A note starts: check its pitch and loudness; returns the new warnings (0, 1 or 2)."""
        pitch = float(note) + (self.mapping.transpose if self.mapping is not None else 0.0)
        loudness = None
        if self.mapping is not None:
            loudness = self._velocity_db.get(velocity)
            if loudness is None:  # once per velocity: the audio thread calls this for every note
                loudness = float(self.mapping.loudness_db(np.array([velocity]), np.zeros(1), np.zeros(1))[0])
                self._velocity_db[velocity] = loudness
        return self._sound((channel, int(note)), pitch, loudness, time_s, f"velocity {velocity}, ")

    def observe_curves(
        self, f0_hz: np.ndarray, loudness_db: np.ndarray, frame_rate: float, *, min_seconds: float = 0.1
    ) -> None:
        """Follow a timbre transfer's control curves ([T] Hz, [T] dB at ``frame_rate``): every run of
        voiced frames (f0 > 0) on one MIDI note for at least ``min_seconds`` is a note at its median loudness."""
        from instrument_agent.dsp import hz_to_midi

        from .grid import pitch_bin

        f0 = np.asarray(f0_hz, dtype=np.float64)
        voiced = np.isfinite(f0) & (f0 > 0)
        notes = np.where(voiced, pitch_bin(hz_to_midi(np.where(voiced, f0, 1.0))), -1)
        edges = np.flatnonzero(np.diff(notes)) + 1
        for start, end in zip(np.r_[0, edges], np.r_[edges, notes.size], strict=True):
            if notes[start] < 0 or (end - start) / frame_rate < min_seconds:
                continue
            level = float(np.median(np.asarray(loudness_db, dtype=np.float64)[start:end]))
            self._sound((-1, int(notes[start])), float(notes[start]), level, start / frame_rate, "")
            self.note_off(int(notes[start]), end / frame_rate, channel=-1)

    def _sound(
        self, key: tuple[int, int], pitch: float, loudness: float | None, time_s: float, how: str
    ) -> list[CoverageWarning]:
        with self._lock:
            if not self._held and (self._released_at is None or time_s - self._released_at >= self.phrase_gap_s):
                if self.phrase == 0 or self._released_at is not None:
                    self.phrase += 1
                    self._current = {}
            self._held.add(key)
            kinds = self._kinds(pitch, loudness)
            self.recent.append(
                {
                    "note": int(round(pitch)),
                    "loudness_db": None if loudness is None else round(loudness, 2),
                    "time_s": round(time_s, 3),
                    "outside": kinds,
                }
            )
            raised = []
            for kind in kinds:
                label = note_name(pitch)
                if kind.startswith("loudness"):
                    label += f" ({how}{loudness:.0f} dB)"
                warning = self._current.get(kind)
                if warning is None:
                    warning = CoverageWarning(kind, self.phrase, time_s, self._limit(kind, pitch))
                    self._current[kind] = warning
                    self.warnings.append(warning)
                    raised.append(warning)
                if label not in warning.notes:
                    warning.notes.append(label)
            return raised

    def _kinds(self, pitch: float, loudness: float | None) -> list[str]:
        region = self.region
        if region is None:
            return []
        kinds = [k for k in (region.pitch_kind(pitch),) if k]
        if loudness is not None:
            kinds += [k for k in (region.loudness_kind(loudness),) if k]
        return kinds

    def _limit(self, kind: str, pitch: float) -> str:
        region = self.region
        assert region is not None
        if kind == "pitch-high":
            return note_name(region.highest)
        if kind == "pitch-low":
            return note_name(region.lowest)
        if kind == "pitch-gap":
            below, above = region.gap_around(pitch)
            return f"{note_name(below)} and {note_name(above)}"
        if kind == "loudness-high":
            return f"{region.loudness_high_db - LOUDNESS_TOLERANCE_DB:.0f} dB"
        return f"{region.loudness_low_db + LOUDNESS_TOLERANCE_DB:.0f} dB"

    # -- for the UI ------------------------------------------------------------
    def snapshot(self, *, last: int = 10) -> dict:
        """JSON-able: the latest warnings (newest last), the recent notes (for live dots), the phrase."""
        with self._lock:
            return {
                "active": self.active,
                "phrase": self.phrase,
                "warnings": [w.to_dict() for w in self.warnings[-last:]],
                "notes": list(self.recent),
            }
