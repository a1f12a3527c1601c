"""From MIDI note values to the decoder's inputs, through the playerProfile.

Per note (vectorised over V notes):

* ``f0_hz = 440 · 2^((pitch + transpose - 69) / 12)``
* ``loudness_db = reference_db - velocity_db_range · (1 - (velocity-1)/126)
  + pressure_db_range · pressure + volume_db + loudness_offset_db``,
  clipped to [-120, 0] dB. ``reference_db`` is the loudness of a velocity-127
  note. :func:`reference_db_of` anchors it so that velocity
  :data:`ANCHOR_VELOCITY` (100) plays at the training audio's typical loudness
  (``feature_stats.loudness_db_typical``); bundles made before that field fall
  back to the loudest training loudness (``loudness_db_max``) at velocity 127,
  as they always played. Pressure adds on top of it.
* ``tilt_db_per_octave = harmonic_tilt + timbre_range · (2·timbre - 1)``
  (CC74 at 64 leaves the profile's tilt unchanged).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from instrument_agent.dsp import midi_to_hz  # re-exported: the mapping's pitch conversion

__all__ = ["ANCHOR_VELOCITY", "ControlMapping", "anchored_reference_db", "midi_to_hz", "reference_db_of"]

DEFAULT_REFERENCE_DB = -20.0
ANCHOR_VELOCITY = 100
"""The velocity that plays at the training audio's typical loudness (the common default velocity of DAWs)."""


def anchored_reference_db(typical_db: float, velocity_db_range: float) -> float:
    """The velocity-127 loudness (dB) that puts velocity :data:`ANCHOR_VELOCITY` at ``typical_db``."""
    return float(typical_db + velocity_db_range * (127.0 - ANCHOR_VELOCITY) / 126.0)


def reference_db_of(feature_stats, velocity_db_range: float) -> float | None:
    """The loudness of a velocity-127 note (dB) for a personality's FeatureStats.

    With ``loudness_db_typical`` set: ``typical + velocity_db_range · (127 - 100) / 126``,
    so velocity 100 lands on the typical loudness. Without it (older bundles):
    ``loudness_db_max``; None when the stats are empty (the mapping's default).
    """
    if feature_stats.loudness_db_typical:
        return anchored_reference_db(feature_stats.loudness_db_typical, velocity_db_range)
    if feature_stats.loudness_db_max or feature_stats.loudness_db_mean:
        return float(feature_stats.loudness_db_max)
    return None


@dataclass(frozen=True)
class ControlMapping:
    """The playerProfile knobs that shape decoder inputs.

    Build it with :meth:`from_profile`.
    """

    transpose: float
    reference_db: float
    velocity_db_range: float
    pressure_db_range: float
    loudness_offset_db: float
    harmonic_tilt: float
    timbre_range: float

    @classmethod
    def from_profile(cls, player_profile, reference_db: float | None = None) -> ControlMapping:
        """From a resolved playerProfile and the loudness of a full-velocity note (dB)."""
        mpe = player_profile.mpe
        return cls(
            transpose=player_profile.transpose,
            reference_db=DEFAULT_REFERENCE_DB if reference_db is None else float(reference_db),
            velocity_db_range=mpe.velocity_db_range,
            pressure_db_range=mpe.pressure_db_range,
            loudness_offset_db=player_profile.loudness_offset_db,
            harmonic_tilt=player_profile.harmonic_tilt,
            timbre_range=mpe.timbre_range,
        )

    def f0_hz(self, pitch: np.ndarray) -> np.ndarray:
        """[V] pitches (semitones) to [V] Hz with the transpose applied."""
        return midi_to_hz(np.asarray(pitch, dtype=np.float64) + self.transpose)

    def loudness_db(self, velocity: np.ndarray, pressure: np.ndarray, volume_db: np.ndarray) -> np.ndarray:
        """[V] velocities 1..127, pressures 0..1, CC volumes (dB) to [V] loudness (dB)."""
        velocity = np.clip(np.asarray(velocity, dtype=np.float64), 1, 127)
        ld = (
            self.reference_db
            - self.velocity_db_range * (1.0 - (velocity - 1.0) / 126.0)
            + self.pressure_db_range * np.asarray(pressure, dtype=np.float64)
            + np.asarray(volume_db, dtype=np.float64)
            + self.loudness_offset_db
        )
        return np.clip(ld, -120.0, 0.0)

    def tilt(self, timbre: np.ndarray) -> np.ndarray:
        """[V] CC74 values 0..1 to [V] harmonic tilt, dB per octave."""
        return self.harmonic_tilt + self.timbre_range * (2.0 * np.asarray(timbre, dtype=np.float64) - 1.0)
