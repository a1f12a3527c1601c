"""Reading a voice's decoder inputs: f0, loudness and tilt through the playerProfile's mapping."""

from __future__ import annotations

import numpy as np

from instrument_agent.synth import harmonic_tilt_gains

from .curves import CurveSource

__all__ = ["InputReader"]


class InputReader:
    """:meth:`_refresh` for :class:`~instrument_agent.engine.Engine`, which provides the voices
    (``_bank``), the MIDI state, the mapping and the pitch glides."""

    def _values(self, slots: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """[V] f0 (Hz), loudness (dB) and tilt (dB/octave) of ``slots`` now, through the mapping."""
        f0 = np.empty(len(slots))
        ld = np.empty(len(slots))
        tilt = np.empty(len(slots))
        mapping = self._mapping
        notes = []
        for i, s in enumerate(slots):
            src = self._bank.source[s]
            if isinstance(src, CurveSource):
                f0[i], ld[i] = src.values(self._frame, mapping)
                tilt[i] = mapping.harmonic_tilt
            else:
                notes.append((i, src))
        if notes:
            idx = np.array([i for i, _ in notes])
            vals = np.array([self._midi.note_values(n) for _, n in notes])  # pitch, pressure, timbre, volume_db
            vel = np.array([n.velocity for _, n in notes])
            f0[idx] = mapping.f0_hz(vals[:, 0])
            ld[idx] = mapping.loudness_db(vel, vals[:, 1], vals[:, 3])
            tilt[idx] = mapping.tilt(vals[:, 2])
        return f0, ld, tilt

    def _refresh(self, slots: list[int], t: float | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Re-read the inputs of ``slots`` (after MIDI events or a profile change, or at a freeze: ``t`` None).

        A MIDI voice's oscillator glides to a new pitch from sample ``t`` (None: no glide)
        (:mod:`~instrument_agent.engine.expression`); its loudness and timbre reach the
        decoder at the next control frame.
        Returns the values (:meth:`_values`).
        """
        b = self._bank
        idx = np.asarray(slots, dtype=np.intp)
        f0, ld, tilt = self._values(slots)
        new_tilt = tilt != b.tilt[idx]
        if new_tilt.any():
            b.tilt[idx[new_tilt]] = tilt[new_tilt]
            b.tilt_gain[idx[new_tilt]] = harmonic_tilt_gains(self.n_harmonics, tilt[new_tilt])
            b.stamp[idx[new_tilt]] += 1
        midi = ~b.curve[idx]
        m_idx = idx[midi]
        changed = (f0[midi] != b.in_f0[m_idx]) | (ld[midi] != b.in_ld[m_idx])
        b.enc_ok[m_idx[changed]] = False
        b.stamp[m_idx[changed]] += 1
        b.in_f0[m_idx] = f0[midi]
        b.in_ld[m_idx] = ld[midi]
        b.f0_prev[m_idx] = f0[midi]
        b.f0_cur[m_idx] = f0[midi]
        if t is not None:  # (an expression message has set its glide at its own sample already)
            self._glide_slots(m_idx, f0[midi], t)
        return f0, ld, tilt
