"""The coverage map as a picture: pitch to the right, loudness up, brighter = more practice."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from instrument_agent.images import colorize, write_png

from .grid import LOUDNESS_BINS, PITCH_BINS, CoverageMap, loudness_bin
from .region import practised_region

__all__ = ["CELL_HEIGHT", "CELL_WIDTH", "coverage_image", "pitch_window", "write_coverage_png"]

CELL_WIDTH, CELL_HEIGHT = 10, 12  # pixels per semitone, per 5 dB
_EMPTY = np.array([0.13, 0.13, 0.15])
_OCTAVE = np.array([0.45, 0.45, 0.5])
_MARKER = np.array([0.95, 0.15, 0.15])
_MIN_SPAN = 36  # semitones shown at least


def pitch_window(coverage: CoverageMap | None, extra: Sequence[int] = ()) -> tuple[int, int]:
    """The notes [low, high] a picture shows: the practised ones and ``extra``, 6 semitones either side, ≥ 3 octaves."""
    notes = list(extra)
    if coverage is not None:
        practised = np.flatnonzero(coverage.pitch_seconds > 0)
        notes += [int(practised[0]), int(practised[-1])] if practised.size else []
    low, high = (min(notes) - 6, max(notes) + 6) if notes else (48, 84)
    while high - low + 1 < _MIN_SPAN:
        low, high = low - 1, high + 1
    return max(0, low), min(PITCH_BINS - 1, high)


def coverage_image(coverage: CoverageMap | None, markers: Sequence[tuple[float, float]] = ()) -> np.ndarray:
    """An RGB picture ([16 · CELL_HEIGHT, notes · CELL_WIDTH, 3] float 0..1) of ``coverage``.

    Cells with practice are coloured by log seconds (viridis-like), empty cells dark; a thin
    light line marks each C; the practised region's edges are outlined in white.
    ``markers``: (MIDI pitch, loudness dB) points drawn as red squares (e.g. played notes).
    """
    low, high = pitch_window(coverage, [int(round(p)) for p, _ in markers])
    seconds = np.zeros((PITCH_BINS, LOUDNESS_BINS)) if coverage is None else coverage.seconds
    window = seconds[low : high + 1]  # [notes, loudness]
    cells = np.where(window[..., None] > 0, colorize(np.log1p(window * 10.0), low=0.0), _EMPTY)
    cells = cells.transpose(1, 0, 2)[::-1]  # [loudness (loud at the top), notes, 3]
    image = np.repeat(np.repeat(cells, CELL_HEIGHT, axis=0), CELL_WIDTH, axis=1)
    for note in range(low, high + 1):
        if note % 12 == 0:
            image[:, (note - low) * CELL_WIDTH] = _OCTAVE
    if coverage is not None:
        region = practised_region(coverage)
        if not region.empty:
            for edge in (region.lowest, region.highest + 1):
                x = (edge - low) * CELL_WIDTH
                if 0 <= x < image.shape[1]:
                    image[:, max(0, x - 1) : x + 1] = 1.0
    for pitch, loudness in markers:
        x = int((round(pitch) - low) * CELL_WIDTH + CELL_WIDTH // 2)
        y = int((LOUDNESS_BINS - 1 - int(loudness_bin(loudness))) * CELL_HEIGHT + CELL_HEIGHT // 2)
        image[max(0, y - 3) : y + 4, max(0, x - 3) : x + 4] = _MARKER
    return image


def write_coverage_png(
    path: str | Path, coverage: CoverageMap | None, markers: Sequence[tuple[float, float]] = ()
) -> Path:
    """Write :func:`coverage_image` as a PNG (atomically)."""
    return write_png(path, coverage_image(coverage, markers))
