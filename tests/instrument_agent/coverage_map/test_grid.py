"""The coverage grid: frames to seconds per (note, loudness) cell, the manifest message, merging."""

from __future__ import annotations

import numpy as np
import pytest

from instrument_agent.coverage_map import LOUDNESS_BINS, PITCH_BINS, CoverageGridError, CoverageMap
from instrument_agent.dsp import midi_to_hz


def test_voiced_frames_land_in_their_note_and_loudness_cells():
    f0 = midi_to_hz(np.array([60.0, 60.4, 60.6, 88.0, 88.0, 30.0]))
    confidence = np.array([0.9, 0.9, 0.9, 0.8, 0.5, 0.2])  # the last frame is unvoiced
    loudness = np.array([-30.0, -29.0, -30.0, -2.0, 5.0, -20.0])
    coverage = CoverageMap.from_frames(f0, confidence, loudness, frame_rate=50)
    assert coverage.seconds.shape == (PITCH_BINS, LOUDNESS_BINS)
    assert coverage.seconds[60, 10] == pytest.approx(2 / 50)  # -30 dB: bin (−30 − −80) / 5 = 10
    assert coverage.seconds[61, 10] == pytest.approx(1 / 50)  # 60.6 rounds to C#4
    assert coverage.seconds[88, LOUDNESS_BINS - 1] == pytest.approx(2 / 50)  # above 0 dB: the top cell
    assert coverage.voiced_seconds == pytest.approx(5 / 50) and coverage.total_seconds == pytest.approx(6 / 50)
    assert coverage.seconds[30].sum() == 0


def test_the_manifest_message_and_the_json_cells_round_trip():
    rng = np.random.default_rng(0)
    coverage = CoverageMap(
        rng.random((PITCH_BINS, LOUDNESS_BINS)) * (rng.random((PITCH_BINS, LOUDNESS_BINS)) > 0.9), 12.5
    )
    message = coverage.to_proto()
    back = CoverageMap.from_proto(message)
    assert np.allclose(back.seconds, coverage.seconds, atol=1e-6) and back.total_seconds == 12.5
    assert np.allclose(CoverageMap.from_dict(coverage.to_dict()).seconds, coverage.seconds, atol=1e-4)
    merged = coverage.merged(back)
    assert np.allclose(merged.seconds, 2 * coverage.seconds, atol=1e-6) and merged.total_seconds == 25.0


def test_an_empty_message_is_no_map_and_another_grid_is_refused_by_name():
    from instrument_agent.proto import personality_pb2

    assert CoverageMap.from_proto(personality_pb2.Coverage()) is None
    other = CoverageMap.empty().to_proto()
    other.loudness_step_db = 3.0
    with pytest.raises(CoverageGridError, match=r"cello v2: grid pitch .* is not this agent's"):
        CoverageMap.from_proto(other, source="cello v2")
    short = CoverageMap.empty().to_proto()
    del short.seconds[5:]
    with pytest.raises(CoverageGridError, match="cello v3: 5 cells, expected 128 × 16"):
        CoverageMap.from_proto(short, source="cello v3")
