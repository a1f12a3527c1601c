"""Voices driven by per-control-frame f0/loudness curves (timbre transfer) instead of MIDI."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from instrument_agent.decoder import Decoder
from instrument_agent.midi import ControlMapping

__all__ = ["CurveSource"]

_CHUNK = 32  # curve frames encoded in one decoder call


@dataclass(eq=False)
class CurveSource:
    """The curves of one voice: curve frame ``i`` plays at engine control frame ``first_frame + i``
    (frames before the first hold frame 0, frames after the last hold the last)."""

    f0_hz: np.ndarray  # [T] Hz per control frame
    loudness_db: np.ndarray  # [T] dB per control frame
    first_frame: int  # engine frame index of curve frame 0
    _chunk: tuple | None = field(default=None, repr=False)  # (index, mapping, [<= _CHUNK, E]) last encoded

    def __len__(self) -> int:
        return self.f0_hz.size

    def values(self, frames: np.ndarray | int, mapping: ControlMapping) -> tuple[np.ndarray, np.ndarray]:
        """f0 (Hz) and loudness (dB) at engine ``frames`` ([F] or a scalar), through the mapping
        (transposed; loudness offset, clipped to <= 0 dB)."""
        i = np.clip(np.asarray(frames) - self.first_frame, 0, self.f0_hz.size - 1)
        f0 = self.f0_hz[i] * 2.0 ** (mapping.transpose / 12.0)
        ld = np.minimum(self.loudness_db[i] + mapping.loudness_offset_db, 0.0)
        return f0, ld

    def encoded(self, decoder: Decoder, frames: np.ndarray, mapping: ControlMapping) -> np.ndarray:
        """[F, E] decoder inputs (:meth:`~instrument_agent.decoder.Decoder.encode`) at engine ``frames`` [F].

        The curves are encoded in chunks of 32 curve frames from the first, each chunk in
        one call, whichever frames are asked together: a frame's inputs then do not depend on
        the engine's block size (the decoder's numbers depend on the shape of the call).
        """
        i = np.clip(np.asarray(frames) - self.first_frame, 0, self.f0_hz.size - 1)
        chunks = i // _CHUNK
        out = np.empty((i.size, decoder.encoded_size), dtype=np.float32)
        for c in np.unique(chunks).tolist():
            sel = chunks == c
            out[sel] = self._encoded_chunk(decoder, c, mapping)[i[sel] - c * _CHUNK]
        return out

    def _encoded_chunk(self, decoder: Decoder, c: int, mapping: ControlMapping) -> np.ndarray:
        if self._chunk is not None and self._chunk[0] == c and self._chunk[1] is mapping:
            return self._chunk[2]
        curve_frames = np.arange(c * _CHUNK, min((c + 1) * _CHUNK, self.f0_hz.size))
        rows = decoder.encode(*self.values(curve_frames + self.first_frame, mapping))
        self._chunk = (c, mapping, rows)
        return rows
