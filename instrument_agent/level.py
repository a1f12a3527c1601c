"""Output level: how loud a clip is, and how loud the training audio typically is.

Both use the loudness convention of :func:`instrument_agent.features.compute_loudness`
(A-weighted power per control frame, dB re a full-scale 1 kHz sine).

* :func:`clip_level_db`: the A-weighted level of a whole clip, the energy mean
  of its frames' A-weighted power (``10·log10(mean 10^(L_t/10))``), so silence
  between notes lowers it the way it lowers an RMS meter's reading.
* :func:`typical_loudness_db`: the loudness a velocity-100 note is anchored to,
  the :data:`TYPICAL_PERCENTILE` th percentile of the voiced frames' loudness
  (``amadeus.v1.FeatureStats.loudness_db_typical``).
* :func:`level_gain_db`: the calibration gain that brings a resynthesis to its
  recording's level (``FeatureStats.level_gain_db``).
"""

from __future__ import annotations

import numpy as np

from instrument_agent.features import compute_loudness

__all__ = ["LEVEL_FRAME_RATE", "TYPICAL_PERCENTILE", "clip_level_db", "level_gain_db", "typical_loudness_db"]

TYPICAL_PERCENTILE = 75.0
"""Velocity 100 is a firm mezzo-forte: three quarters of the voiced training frames are at or below it."""

LEVEL_FRAME_RATE = 50
"""Frames per second :func:`clip_level_db` analyses at (it divides every supported rate)."""


def clip_level_db(audio: np.ndarray, sample_rate: int) -> float:
    """A-weighted level of a clip, dB re a full-scale 1 kHz sine.

    Args:
        audio: [n] or [B, n] float audio (full scale 1.0); a batch is one clip.
        sample_rate: Hz (a multiple of :data:`LEVEL_FRAME_RATE`).

    Returns:
        The energy-mean frame loudness in dB (-80 for silence).
    """
    clips = np.atleast_2d(np.asarray(audio, dtype=np.float64))
    loudness = np.concatenate([compute_loudness(clip, sample_rate, LEVEL_FRAME_RATE) for clip in clips])
    if loudness.size == 0:
        raise ValueError(f"clip of {clips.shape[-1]} samples is shorter than one frame at {sample_rate} Hz")
    return float(10.0 * np.log10(np.mean(10.0 ** (loudness.astype(np.float64) / 10.0))))


def level_gain_db(recording: np.ndarray, resynthesis: np.ndarray, sample_rate: int) -> float:
    """dB to add to ``resynthesis`` so its :func:`clip_level_db` equals ``recording``'s.

    Args:
        recording, resynthesis: [n] or [B, n] float audio at ``sample_rate``.
    """
    return clip_level_db(recording, sample_rate) - clip_level_db(resynthesis, sample_rate)


def typical_loudness_db(loudness_db: np.ndarray, voiced: np.ndarray) -> float:
    """The :data:`TYPICAL_PERCENTILE` th percentile of the voiced frames' loudness (dB).

    Args:
        loudness_db: [...] frame loudness, dB.
        voiced: [...] bool, same shape.

    Returns:
        dB; 0.0 when no frame is voiced (FeatureStats' "unset").
    """
    values = np.asarray(loudness_db, dtype=np.float64)[np.asarray(voiced, dtype=bool)]
    return float(np.percentile(values, TYPICAL_PERCENTILE)) if values.size else 0.0
