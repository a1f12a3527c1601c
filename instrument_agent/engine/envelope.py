"""The ADSR envelope a voice's audio is multiplied by, per sample.

Times are in samples from the engine's start. A held voice rises linearly over
the attack to 1, falls over the decay to the sustain level and holds it; from
its note-off (or cut) it falls linearly from the level it had then to 0 over its
release. The shortest attack (2 ms) and release (5 ms) keep onsets and ends
click-free whatever the playerProfile asks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Envelope"]

_MIN_ATTACK_S = 0.002  # shortest attack/release: no clicks
_MIN_RELEASE_S = 0.005


@dataclass(frozen=True)
class Envelope:
    """ADSR in samples (from a playerProfile's ``envelope``, :meth:`from_profile`)."""

    attack: float  # samples
    decay: float  # samples
    sustain: float  # level 0..1
    release: float  # samples

    @classmethod
    def from_profile(cls, envelope, sample_rate: int) -> Envelope:
        """From a playerProfile ``envelope`` (seconds, sustain 0..1) at ``sample_rate`` Hz."""
        sr = sample_rate
        return cls(
            attack=max(envelope.attack_s, _MIN_ATTACK_S) * sr,
            decay=max(envelope.decay_s, 1.0 / sr) * sr,
            sustain=float(envelope.sustain),
            release=max(envelope.release_s, _MIN_RELEASE_S) * sr,
        )

    def levels(
        self, on: np.ndarray, off: np.ndarray, off_level: np.ndarray, release_len: np.ndarray, t: np.ndarray
    ) -> np.ndarray:
        """[V, n] gains at absolute samples ``t`` ([n] float64) of V voices.

        Args:
            on: [V] note-on sample. off: [V] note-off sample (inf while held).
            off_level: [V] the level at the note-off. release_len: [V] samples of each voice's release.
        """
        tau = t[None, :] - on[:, None]
        a, d, s = self.attack, self.decay, self.sustain
        held = np.where(tau < a, tau / a, np.where(tau < a + d, 1.0 - (1.0 - s) * (tau - a) / d, s))
        held = np.clip(held, 0.0, 1.0)
        off = off[:, None]
        rel = off_level[:, None] * np.clip(1.0 - (t[None, :] - off) / release_len[:, None], 0.0, 1.0)
        return np.where(t[None, :] >= off, rel, held)

    def holds_sustain(self, on: np.ndarray, off: np.ndarray, start: int, stop: int) -> np.ndarray:
        """[V] bool: the voices whose gain is the sustain level over all of ``[start, stop)``."""
        return (start - on >= self.attack + self.decay) & (off >= stop)
