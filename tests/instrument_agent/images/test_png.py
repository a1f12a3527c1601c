"""PNG files from numpy (read back by the decoder and by the standard's own rules), spectrogram
pictures, and a practice's preview files."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest
import soundfile

from instrument_agent.images import (
    PREVIEW_FILES,
    decode_png,
    encode_png,
    spectrogram_image,
    write_png,
    write_preview,
)
from instrument_agent.images.png import PngError


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


def test_bad_arrays_and_bytes_are_refused_clearly():
    with pytest.raises(PngError, match=r"got shape \(2, 2, 4\)"):
        encode_png(np.zeros((2, 2, 4)))
    with pytest.raises(PngError, match="bad signature"):
        decode_png(b"GIF89a")


def test_a_tone_is_a_bright_row_at_its_frequency():
    sr = 16000
    t = np.arange(sr) / sr
    image = spectrogram_image(0.5 * np.sin(2 * np.pi * 2000 * t), sr, height=161, max_hz=8000)
    row = int(np.argmax(image.sum(axis=(1, 2))))
    assert abs(row - (160 - 2000 / 8000 * 160)) <= 1  # row 0 is 8 kHz, the last row 0 Hz


def test_preview_writes_both_sounds_and_pictures_on_one_scale(tmp_path):
    sr = 16000
    t = np.arange(sr) / sr
    loud, quiet = 0.5 * np.sin(2 * np.pi * 440 * t), 0.005 * np.sin(2 * np.pi * 440 * t)
    write_preview(tmp_path / "preview", loud, quiet, sr)
    assert sorted(p.name for p in (tmp_path / "preview").iterdir()) == sorted(PREVIEW_FILES)
    audio, rate = soundfile.read(str(tmp_path / "preview" / "recording.wav"))
    assert rate == sr and np.allclose(audio, loud, atol=1e-4)
    pictures = [decode_png((tmp_path / "preview" / f"{n}.png").read_bytes()) for n in ("recording", "resynthesis")]
    tone_row = [int(p.astype(int).sum(axis=2).max()) for p in pictures]
    assert tone_row[0] > tone_row[1] + 100  # one dB scale: the quieter sound draws the darker tone
