"""PNG files from numpy, read back by the decoder, by the standard's own rules and by an
independent reader (Pillow)."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from instrument_agent.images import PngError, decode_png, encode_png, write_png


def test_rgb_and_grey_round_trip_with_valid_chunks(tmp_path):
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, (7, 11, 3), dtype=np.uint8)
    data = encode_png(rgb)
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (11, 7)
    assert zlib.crc32(data[12:29]) & 0xFFFFFFFF == struct.unpack(">I", data[29:33])[0]
    assert np.array_equal(decode_png(data), rgb)
    grey = np.linspace(0, 1, 20).reshape(4, 5)
    assert np.array_equal(decode_png(write_png(tmp_path / "g.png", grey).read_bytes())[..., 0], np.round(grey * 255))


def test_pillow_reads_the_same_pixels(tmp_path):
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, size=(37, 53, 3), dtype=np.uint8)
    path = write_png(tmp_path / "deeper" / "x.png", rgb)
    with Image.open(path) as image:
        assert image.size == (53, 37) and image.mode == "RGB"
        assert np.array_equal(np.asarray(image), rgb)
    grey = rng.integers(0, 256, size=(5, 9), dtype=np.uint8)
    with Image.open(write_png(tmp_path / "grey.png", grey)) as image:
        assert image.mode == "L" and np.array_equal(np.asarray(image), grey)


def test_bad_arrays_and_bytes_are_refused_clearly():
    with pytest.raises(PngError, match=r"got shape \(2, 2, 4\)"):
        encode_png(np.zeros((2, 2, 4)))
    with pytest.raises(PngError, match=r"got shape \(0, 3\)"):
        encode_png(np.zeros((0, 3), np.uint8))
    with pytest.raises(PngError, match="bad signature"):
        decode_png(b"GIF89a")
    broken = bytearray(encode_png(np.zeros((2, 2, 3), np.uint8)))
    broken[20] ^= 1  # inside IHDR
    with pytest.raises(PngError, match="IHDR.*CRC"):
        decode_png(bytes(broken))
