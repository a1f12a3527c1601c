"""Voices driven by per-control-frame f0/loudness curves (timbre transfer) instead of MIDI."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from instrument_agent.midi import ControlMapping

__all__ = ["CurveSource"]


@dataclass(eq=False)
class CurveSource:
    """The curves of one voice: curve frame ``i`` plays at engine control frame ``first_frame + i``
    (frames before the first hold frame 0, frames after the last hold the last)."""

    f0_hz: np.ndarray  # [T] Hz per control frame
    loudness_db: np.ndarray  # [T] dB per control frame
    first_frame: int  # engine frame index of curve frame 0

    def __len__(self) -> int:
        return self.f0_hz.size

    def values(self, frames: np.ndarray | int, mapping: ControlMapping) -> tuple[np.ndarray, np.ndarray]:
        """f0 (Hz) and loudness (dB) at engine ``frames`` ([F] or a scalar), through the mapping
        (transposed; loudness offset, clipped to <= 0 dB)."""
        i = np.clip(np.asarray(frames) - self.first_frame, 0, self.f0_hz.size - 1)
        f0 = self.f0_hz[i] * 2.0 ** (mapping.transpose / 12.0)
        ld = np.minimum(self.loudness_db[i] + mapping.loudness_offset_db, 0.0)
        return f0, ld
