"""The practice coverage map: seconds of voiced training audio per (MIDI pitch, loudness) cell.

The grid (fixed, so maps of different practices add up and compare):

* pitch: 128 one-semitone bins centred on the MIDI notes 0..127 (bin ``i`` holds
  pitches in ``[i - 0.5, i + 0.5)``);
* loudness: 16 bins of 5 dB from -80 dB (the features' floor, :data:`~instrument_agent.dsp.DB_RANGE`)
  to 0 dB (the loudest clean tone).

Values outside the grid count in the nearest edge cell. A frame is *voiced* when the f0
tracker's confidence is at least :data:`VOICED_CONFIDENCE` (the training data's rule).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from instrument_agent.dsp import DB_RANGE, hz_to_midi

if TYPE_CHECKING:
    from instrument_agent.proto.personality_pb2 import Coverage

__all__ = [
    "LOUDNESS_BINS",
    "LOUDNESS_LOW_DB",
    "LOUDNESS_STEP_DB",
    "PITCH_BINS",
    "VOICED_CONFIDENCE",
    "CoverageGridError",
    "CoverageMap",
]

PITCH_BINS = 128
PITCH_LOW = -0.5
PITCH_STEP = 1.0
LOUDNESS_LOW_DB = -DB_RANGE
LOUDNESS_STEP_DB = 5.0
LOUDNESS_BINS = int(DB_RANGE / LOUDNESS_STEP_DB)
VOICED_CONFIDENCE = 0.5


class CoverageGridError(ValueError):
    """A coverage message whose grid or cell count this agent can't read (the message says which)."""


@dataclass(frozen=True)
class CoverageMap:
    """Where a personality's training audio lies.

    Attributes:
        seconds: [PITCH_BINS, LOUDNESS_BINS] float64, seconds of voiced audio per cell.
        total_seconds: all training audio, voiced or not, s.
    """

    seconds: np.ndarray
    total_seconds: float = 0.0

    @classmethod
    def empty(cls) -> CoverageMap:
        return cls(np.zeros((PITCH_BINS, LOUDNESS_BINS)), 0.0)

    @classmethod
    def from_frames(
        cls,
        f0_hz: np.ndarray,
        f0_confidence: np.ndarray,
        loudness_db: np.ndarray,
        frame_rate: float,
    ) -> CoverageMap:
        """The map of aligned frame features (any equal shapes, e.g. [E, T] examples).

        Args:
            f0_hz: Hz; f0_confidence: 0..1 (frames at or above :data:`VOICED_CONFIDENCE` count);
            loudness_db: dB; frame_rate: frames per second.
        """
        f0 = np.asarray(f0_hz, dtype=np.float64).reshape(-1)
        confidence = np.asarray(f0_confidence, dtype=np.float64).reshape(-1)
        loudness = np.asarray(loudness_db, dtype=np.float64).reshape(-1)
        if not f0.size == confidence.size == loudness.size:
            raise ValueError(f"f0 ({f0.size}), confidence ({confidence.size}) and loudness ({loudness.size}) differ")
        voiced = (confidence >= VOICED_CONFIDENCE) & np.isfinite(f0) & (f0 > 0) & np.isfinite(loudness)
        counts = np.zeros((PITCH_BINS, LOUDNESS_BINS))
        np.add.at(counts, (pitch_bin(hz_to_midi(f0[voiced])), loudness_bin(loudness[voiced])), 1.0)
        return cls(counts / float(frame_rate), f0.size / float(frame_rate))

    # -- the proto message -------------------------------------------------------
    def to_proto(self, message: Coverage | None = None) -> Coverage:
        """Fill (or make) an ``amadeus.v1.Coverage`` message."""
        from instrument_agent.proto import personality_pb2

        message = personality_pb2.Coverage() if message is None else message
        message.Clear()
        message.pitch_low, message.pitch_step, message.pitch_bins = PITCH_LOW, PITCH_STEP, PITCH_BINS
        message.loudness_low_db, message.loudness_step_db = LOUDNESS_LOW_DB, LOUDNESS_STEP_DB
        message.loudness_bins = LOUDNESS_BINS
        message.seconds.extend(self.seconds.reshape(-1).astype(np.float32).tolist())
        message.total_seconds = float(self.total_seconds)
        return message

    @classmethod
    def from_proto(cls, message: Coverage, *, source: str = "coverage") -> CoverageMap | None:
        """The map of an ``amadeus.v1.Coverage`` message; None when it is empty (a personality made
        before coverage maps). Raises :class:`CoverageGridError` naming ``source`` for another grid."""
        if not message.pitch_bins and not message.seconds:
            return None
        grid = (message.pitch_low, message.pitch_step, message.pitch_bins)
        loud = (message.loudness_low_db, message.loudness_step_db, message.loudness_bins)
        if grid != (PITCH_LOW, PITCH_STEP, PITCH_BINS) or loud != (LOUDNESS_LOW_DB, LOUDNESS_STEP_DB, LOUDNESS_BINS):
            raise CoverageGridError(
                f"{source}: grid pitch {grid} × loudness {loud} is not this agent's "
                f"({(PITCH_LOW, PITCH_STEP, PITCH_BINS)} × {(LOUDNESS_LOW_DB, LOUDNESS_STEP_DB, LOUDNESS_BINS)})"
            )
        if len(message.seconds) != PITCH_BINS * LOUDNESS_BINS:
            raise CoverageGridError(f"{source}: {len(message.seconds)} cells, expected {PITCH_BINS} × {LOUDNESS_BINS}")
        seconds = np.asarray(message.seconds, dtype=np.float64).reshape(PITCH_BINS, LOUDNESS_BINS)
        return cls(seconds, float(message.total_seconds))

    def merged(self, other: CoverageMap | None) -> CoverageMap:
        """Both maps added cell by cell (a practice that continued ``other``'s version)."""
        if other is None:
            return self
        return CoverageMap(self.seconds + other.seconds, self.total_seconds + other.total_seconds)

    @classmethod
    def from_dict(cls, data: dict) -> CoverageMap:
        """The map of :meth:`to_dict`'s output (e.g. the features stage's ``stats.json``)."""
        seconds = np.zeros((PITCH_BINS, LOUDNESS_BINS))
        for note, index, value in data.get("cells", []):
            seconds[int(note), int(index)] = float(value)
        return cls(seconds, float(data.get("total_seconds", 0.0)))

    # -- reading it --------------------------------------------------------------
    @property
    def voiced_seconds(self) -> float:
        return float(self.seconds.sum())

    @property
    def pitch_seconds(self) -> np.ndarray:
        """[PITCH_BINS] voiced seconds per MIDI note."""
        return self.seconds.sum(axis=1)

    @property
    def loudness_seconds(self) -> np.ndarray:
        """[LOUDNESS_BINS] voiced seconds per loudness bin."""
        return self.seconds.sum(axis=0)

    def to_dict(self) -> dict:
        """JSON-able: the grid and the non-empty cells ``[[note, loudness bin, seconds], …]``."""
        notes, bins = np.nonzero(self.seconds)
        return {
            "pitch_bins": PITCH_BINS,
            "loudness_low_db": LOUDNESS_LOW_DB,
            "loudness_step_db": LOUDNESS_STEP_DB,
            "loudness_bins": LOUDNESS_BINS,
            "cells": [[int(n), int(b), round(float(self.seconds[n, b]), 4)] for n, b in zip(notes, bins, strict=True)],
            "voiced_seconds": round(self.voiced_seconds, 3),
            "total_seconds": round(float(self.total_seconds), 3),
        }


def pitch_bin(midi: np.ndarray | float) -> np.ndarray:
    """MIDI pitch (semitones) → pitch bin index (the nearest note, clipped to 0..127)."""
    return np.clip(np.floor((np.asarray(midi, dtype=np.float64) - PITCH_LOW) / PITCH_STEP), 0, PITCH_BINS - 1).astype(
        int
    )


def loudness_bin(db: np.ndarray | float) -> np.ndarray:
    """Loudness (dB) → loudness bin index (clipped to the grid)."""
    index = np.floor((np.asarray(db, dtype=np.float64) - LOUDNESS_LOW_DB) / LOUDNESS_STEP_DB)
    return np.clip(index, 0, LOUDNESS_BINS - 1).astype(int)
