"""The shared pitch and level conversions."""

import numpy as np
import pytest

from instrument_agent.dsp import DB_RANGE, db_to_amplitude, hz_to_midi, midi_to_hz


def test_hz_and_midi_meet_at_a4_and_invert_each_other():
    assert hz_to_midi(440.0) == 69.0 and midi_to_hz(69) == 440.0
    hz = np.array([27.5, 261.6255653, 880.0, 4186.009])
    np.testing.assert_allclose(hz_to_midi(hz), [21.0, 60.0, 81.0, 108.0], atol=1e-6)
    np.testing.assert_allclose(midi_to_hz(hz_to_midi(hz)), hz, rtol=1e-12)


def test_hz_to_midi_keeps_float32_and_is_finite_at_zero_hz():
    midi = hz_to_midi(np.array([0.0, 440.0], dtype=np.float32))
    assert midi.dtype == np.float32 and np.all(np.isfinite(midi)) and midi[1] == 69.0


def test_decibels_to_amplitude():
    assert db_to_amplitude(0.0) == 1.0
    assert db_to_amplitude(-20.0) == pytest.approx(0.1, rel=1e-12)
    assert db_to_amplitude(-DB_RANGE) == pytest.approx(1e-4, rel=1e-12)
