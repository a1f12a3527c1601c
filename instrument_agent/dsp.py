"""Small DSP conversions shared by the agent's numpy code (and by ``pipelines``' constants).

One home for the pitch and level conversions that the decoder, the MIDI mapping,
the synth, the features and the renderers all use. Numpy only. The TensorFlow
versions (``pipelines.ddsp.core``) follow the same formulas and import
:data:`DB_RANGE` from here.

* pitch: MIDI note number ``69`` is A4 = ``440`` Hz, 12 semitones an octave;
* level: decibels of amplitude, ``a = 10^(db / 20)``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["DB_RANGE", "db_to_amplitude", "hz_to_midi", "midi_to_hz"]

DB_RANGE = 80.0
"""Loudness range below full scale, dB (DDSP's ``DB_RANGE``): the loudness floor of the
features, and the decoder's input scaling ``loudness_db / DB_RANGE + 1``."""

_A4_HZ, _A4_MIDI = 440.0, 69.0  # A4
_MIN_HZ = 1e-3  # f0 floor of hz_to_midi: 0 Hz (unvoiced) maps to a finite, very low note


def hz_to_midi(f0_hz: np.ndarray | float) -> np.ndarray:
    """Frequency to MIDI note number: ``12 log2(f / 440) + 69`` (fractional).

    Args:
        f0_hz: any shape, Hz; values below 1 mHz are floored to it (so 0 Hz is finite).
    Returns:
        the same shape, semitones; float32 input stays float32 (the decoder's inputs).
    """
    f0_hz = np.asarray(f0_hz)
    return 12.0 * np.log2(np.maximum(f0_hz, _MIN_HZ) / _A4_HZ) + _A4_MIDI


def midi_to_hz(pitch: np.ndarray | float) -> np.ndarray:
    """MIDI pitch (semitones, fractional allowed) to Hz: ``440 · 2^((pitch - 69) / 12)``; float64, same shape."""
    return _A4_HZ * 2.0 ** ((np.asarray(pitch, dtype=np.float64) - _A4_MIDI) / 12.0)


def db_to_amplitude(db: np.ndarray | float) -> np.ndarray:
    """Decibels to linear amplitude gain: ``10^(db / 20)``; float64, same shape."""
    return 10.0 ** (np.asarray(db, dtype=np.float64) / 20.0)
