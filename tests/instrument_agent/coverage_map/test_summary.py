"""The coverage map in words and as a picture (real features of real tones: _coverage_support)."""

from __future__ import annotations

import pytest
from _coverage_support import practised_map

from instrument_agent.coverage_map import (
    CELL_HEIGHT,
    CELL_WIDTH,
    LOUDNESS_BINS,
    coverage_image,
    pitch_window,
    summarize,
    write_coverage_png,
)
from instrument_agent.images import decode_png


@pytest.fixture(scope="module")
def practised():
    return practised_map()


def test_summary_names_the_range_the_gap_and_what_to_record_next(practised):
    coverage, loudest = practised
    summary = summarize(coverage, reference_db=loudest, velocity_db_range=30.0)
    assert (summary.lowest, summary.highest, summary.gaps) == (60, 74, [[68, 71]])
    assert summary.soft_missing and not summary.loud_missing  # velocity 1 plays 30 dB under the loudest
    assert summary.suggestion == "record notes between G#4 and B4, soft dynamics"
    lines = summary.lines()
    assert lines[0].startswith("practised ") and "on notes C4–D5 (MIDI 60–74, 15 semitones)" in lines[0]
    assert "gaps (never practised inside the range): G#4–B4" in lines
    assert summary.to_dict()["gap_names"] == [["G#4", "B4"]]
    # A narrower velocity range stays inside the practised dynamics; no gap: extend the range upwards.
    full = summarize(
        coverage.merged(practised_map(_tones(range(68, 72)))[0]), reference_db=loudest, velocity_db_range=10
    )
    assert full.gaps == [] and full.suggestion == "record notes between D#5 and A5"


def _tones(notes):
    from _coverage_support import practice_audio

    return practice_audio(notes=tuple(notes))


def test_no_map_says_so():
    summary = summarize(None)
    assert not summary.practised and "before coverage maps" in summary.lines()[0]


def test_the_picture_shows_practice_bright_empty_dark_and_red_markers(practised, tmp_path):
    coverage, _ = practised
    assert pitch_window(coverage)[0] <= 54 and pitch_window(coverage)[1] >= 80
    low, high = pitch_window(coverage, [79])
    assert high - low + 1 >= 36
    path = write_coverage_png(tmp_path / "map.png", coverage, markers=[(79.0, -20.0)])
    image = decode_png(path.read_bytes()).astype(int)
    assert image.shape == (LOUDNESS_BINS * CELL_HEIGHT, (high - low + 1) * CELL_WIDTH, 3)
    brightness = image.sum(axis=2)
    column = lambda note: (note - low) * CELL_WIDTH + CELL_WIDTH // 2 + 2  # noqa: E731 - off the marker/edge lines
    practised_cells = brightness[:, column(64)]
    assert practised_cells.max() > 300 and brightness[:, column(69)].max() < 150  # E4 practised, A4 in the gap
    y = (LOUDNESS_BINS - 1 - 12) * CELL_HEIGHT + CELL_HEIGHT // 2  # -20 dB: loudness bin 12
    x = (79 - low) * CELL_WIDTH + CELL_WIDTH // 2
    red = image[y, x]
    assert red[0] > 200 and red[1] < 80 and red[2] < 80
    assert coverage_image(coverage)[y, x].sum() < 1.0  # without the marker: an empty (dark) cell
