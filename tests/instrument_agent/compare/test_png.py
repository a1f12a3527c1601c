"""The light PNG writer's files decode with an independent reader (Pillow) to the same pixels."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from instrument_agent.compare import png_bytes, read_png_size, side_by_side, write_png


def test_pixels_survive_the_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, size=(37, 53, 3), dtype=np.uint8)
    path = write_png(tmp_path / "x.png", rgb)
    with Image.open(path) as image:
        assert image.size == (53, 37) and image.mode == "RGB"
        assert np.array_equal(np.asarray(image), rgb)
    assert read_png_size(path.read_bytes()) == (53, 37)


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match="expected an RGB image"):
        png_bytes(np.zeros((4, 4), np.uint8))


def test_side_by_side_shows_each_signal_where_its_energy_is():
    sr = 16000
    t = np.arange(sr) / sr
    low, high = np.sin(2 * np.pi * 500 * t), np.sin(2 * np.pi * 4000 * t)
    image = side_by_side(low, high, sr, columns=100, rows=80, gap=4)
    assert image.shape == (80, 204, 3)
    brightness = image.astype(int).sum(axis=2)  # viridis: yellow (loud) is brightest
    left, right = brightness[:, :100], brightness[:, 104:]
    rows = np.arange(80)
    # row 0 is 8 kHz, row 79 is 0 Hz: 500 Hz sits near the bottom, 4 kHz in the middle
    assert abs(rows[left.mean(axis=1).argmax()] - 75) <= 2
    assert abs(rows[right.mean(axis=1).argmax()] - 40) <= 2
    assert (image[:, 100:104] == 255).all()
