"""A minimal PNG writer (8-bit RGB, zlib from the standard library): the agent draws images
without matplotlib or Pillow, so ``amadeus[agent]`` stays light."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np

from instrument_agent.personality.atomic import atomic_write

__all__ = ["png_bytes", "read_png_size", "write_png"]


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_bytes(rgb: np.ndarray) -> bytes:
    """PNG file bytes of an image [height, width, 3] uint8 (row 0 at the top)."""
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.shape[0] < 1 or rgb.shape[1] < 1:
        raise ValueError(f"expected an RGB image [h, w, 3], got shape {rgb.shape}")
    height, width = rgb.shape[:2]
    rows = np.concatenate([np.zeros((height, 1), np.uint8), rgb.reshape(height, width * 3)], axis=1)  # filter 0
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(rows.tobytes(), 6))
        + _chunk(b"IEND", b"")
    )


def write_png(path: str | Path, rgb: np.ndarray) -> Path:
    """Write ``rgb`` [h, w, 3] uint8 as a PNG file, atomically."""
    return atomic_write(path, png_bytes(rgb))


def read_png_size(data: bytes) -> tuple[int, int]:
    """``(width, height)`` from PNG bytes (checks the signature and the IHDR chunk)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise ValueError("not a PNG file")
    width, height = struct.unpack(">II", data[16:24])
    return width, height
