"""Clip level, the level calibration and the velocity anchor, on generated signals."""

from __future__ import annotations

import numpy as np
import pytest

from instrument_agent.level import TYPICAL_PERCENTILE, clip_level_db, level_gain_db, typical_loudness_db
from instrument_agent.midi.mapping import ControlMapping, reference_db_of
from instrument_agent.profiles import default_player_profile
from instrument_agent.proto import personality_pb2

SR = 16000


def _sine(amplitude: float, seconds: float = 1.0, hz: float = 1000.0) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return (amplitude * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def test_clip_level_reads_a_full_scale_1khz_sine_as_0_db_and_silence_as_energy():
    assert clip_level_db(_sine(1.0), SR) == pytest.approx(0.0, abs=0.1)
    assert clip_level_db(_sine(0.1), SR) == pytest.approx(-20.0, abs=0.1)
    half_silent = np.concatenate([_sine(0.1), np.zeros(SR, np.float32)])
    assert clip_level_db(half_silent, SR) == pytest.approx(-23.0, abs=0.2)  # half the energy
    assert clip_level_db(_sine(0.1, hz=100.0), SR) < -35.0  # A-weighting: 100 Hz counts ~19 dB less
    batch = np.stack([_sine(0.1), np.zeros(SR, np.float32)])
    assert clip_level_db(batch, SR) == pytest.approx(clip_level_db(half_silent, SR), abs=0.05)
    with pytest.raises(ValueError, match="shorter than one frame"):
        clip_level_db(np.zeros(10, np.float32), SR)


def test_level_gain_brings_a_quiet_resynthesis_to_the_recordings_level():
    recording, quiet = _sine(0.3), _sine(0.3 * 10 ** (-8.6 / 20))
    gain = level_gain_db(recording, quiet, SR)
    assert gain == pytest.approx(8.6, abs=0.01)
    assert clip_level_db(quiet * 10 ** (gain / 20), SR) == pytest.approx(clip_level_db(recording, SR), abs=0.01)


def test_typical_loudness_is_the_upper_quartile_of_voiced_frames():
    loudness = np.linspace(-40.0, -10.0, 301)
    voiced = loudness > -35.0
    assert TYPICAL_PERCENTILE == 75.0
    assert typical_loudness_db(loudness, voiced) == pytest.approx(np.percentile(loudness[voiced], 75))
    assert typical_loudness_db(loudness, np.zeros_like(voiced)) == 0.0  # unset


@pytest.mark.parametrize("velocity_range", [12.0, 30.0, 60.0])
def test_velocity_100_plays_at_the_typical_loudness_whatever_the_velocity_range(velocity_range):
    stats = personality_pb2.FeatureStats(loudness_db_max=-6.0, loudness_db_mean=-27.0, loudness_db_typical=-17.0)
    profile = default_player_profile()
    profile.mpe.velocity_db_range = velocity_range
    mapping = ControlMapping.from_profile(profile, reference_db_of(stats, velocity_range))
    zeros = np.zeros(3)
    loud = mapping.loudness_db(np.array([100, 1, 127]), zeros, zeros)
    assert loud[0] == pytest.approx(-17.0)
    assert loud[2] - loud[1] == pytest.approx(velocity_range)


def test_stats_from_before_the_anchor_keep_velocity_127_at_the_loudest_loudness():
    old = personality_pb2.FeatureStats(loudness_db_max=-6.0, loudness_db_mean=-27.0)
    assert reference_db_of(old, 30.0) == pytest.approx(-6.0)
    assert reference_db_of(personality_pb2.FeatureStats(), 30.0) is None  # no stats: the mapping's default
