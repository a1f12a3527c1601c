"""The comparison measures on signals whose answers are known."""

from __future__ import annotations

import numpy as np
import pytest

from instrument_agent.compare import a_weighted_db, compare_audio, rms_db, spectral_centroid_hz, spectral_distance

SR = 16000


def sine(hz, seconds=1.0, amplitude=1.0):
    t = np.arange(int(SR * seconds)) / SR
    return (amplitude * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def test_levels_of_known_signals():
    assert rms_db(sine(440)) == pytest.approx(-3.01, abs=0.02)
    assert a_weighted_db(sine(1000), SR) == pytest.approx(0.0, abs=0.3)  # 0 dB at 1 kHz by definition
    assert a_weighted_db(sine(100), SR) == pytest.approx(-19.1, abs=0.6)  # IEC 61672: −19.1 dB at 100 Hz
    assert rms_db(np.zeros(100)) == -120.0


def test_centroid_follows_the_pitch():
    assert spectral_centroid_hz(sine(440), SR) == pytest.approx(440, rel=0.02)
    assert spectral_centroid_hz(sine(1760), SR) == pytest.approx(1760, rel=0.02)


def test_distance_is_zero_for_the_same_sound_and_grows_with_the_difference():
    a = sine(440)
    assert spectral_distance(a, a.copy()) == 0.0
    near, far = spectral_distance(a, sine(440, amplitude=0.9)), spectral_distance(a, sine(660))
    assert 0 < near < far


def test_compare_reports_the_level_difference():
    c = compare_audio(sine(440), sine(440, amplitude=0.5), SR)
    [_, (_, a_a, a_b, a_delta), (_, r_a, r_b, r_delta), _] = c.rows()
    assert r_delta == pytest.approx(-6.02, abs=0.02) and a_delta == pytest.approx(-6.02, abs=0.05)
    assert c.spectral_distance > 0 and c.seconds == (1.0, 1.0)
