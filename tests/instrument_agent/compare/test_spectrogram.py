"""The side-by-side picture of two renders: each signal's energy where it is, one dB scale, a
white gap, and a PNG that an independent reader (Pillow) opens."""

from __future__ import annotations

import numpy as np
from PIL import Image

from instrument_agent.compare import side_by_side
from instrument_agent.images import write_png


def test_side_by_side_shows_each_signal_where_its_energy_is(tmp_path):
    sr = 16000
    t = np.arange(sr) / sr
    low, high = np.sin(2 * np.pi * 500 * t), np.sin(2 * np.pi * 4000 * t)
    image = side_by_side(low, high, sr, width=100, height=80, gap=4)
    assert image.shape == (80, 204, 3)
    brightness = image.sum(axis=2)  # viridis: yellow (loud) is brightest
    left, right = brightness[:, :100], brightness[:, 104:]
    # row 0 is 8 kHz, row 79 is 0 Hz: 500 Hz sits near the bottom, 4 kHz in the middle
    assert abs(int(left.mean(axis=1).argmax()) - 74) <= 2
    assert abs(int(right.mean(axis=1).argmax()) - 40) <= 2
    assert (image[:, 100:104] == 1.0).all()
    with Image.open(write_png(tmp_path / "ab.png", image)) as png:
        assert png.size == (204, 80) and png.mode == "RGB"
        assert (np.asarray(png)[:, 100:104] == 255).all()


def test_the_quieter_render_is_drawn_darker():
    sr = 16000
    t = np.arange(sr) / sr
    loud = 0.5 * np.sin(2 * np.pi * 440 * t)
    image = side_by_side(loud, loud / 100, sr, width=50, height=60)
    left, right = image[:, :50].sum(axis=2), image[:, 58:].sum(axis=2)
    assert left.max() > right.max() + 0.3  # 40 dB down on the louder one's scale
    alike = side_by_side(loud, loud, sr, width=50, height=60)
    assert np.array_equal(alike[:, :50], alike[:, 58:])


def test_at_48_khz_no_row_is_left_empty():
    # 171 FFT bins up to 8 kHz on 200 rows: every row is drawn (interpolated), none black
    noise = np.random.default_rng(4).normal(0, 0.1, 48000)
    image = side_by_side(noise, noise, 48000)
    assert image.shape == (200, 808, 3)
    darkest = image[:, :400].sum(axis=2).min(axis=1)
    assert darkest.min() > 0.8  # viridis' darkest colour sums to 0.60; white noise sits well above it
