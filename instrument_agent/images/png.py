"""PNG files from numpy arrays (8-bit RGB or grey), with the standard library's zlib and struct."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np

from instrument_agent.personality.atomic import atomic_write

__all__ = ["PngError", "decode_png", "encode_png", "write_png"]

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOR_TYPES = {1: 0, 3: 2}  # channels -> PNG colour type (grey, RGB)


class PngError(ValueError):
    """An image array that can't be a PNG, or bytes that aren't one this module wrote."""


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def encode_png(image: np.ndarray) -> bytes:
    """PNG bytes of ``image``.

    Args:
        image: [H, W] (grey) or [H, W, 3] (RGB) uint8, or float in 0..1 (clipped, scaled to 0..255).

    Returns:
        The PNG file's bytes (8 bits per channel, filter 0 on every row, zlib level 6).
    """
    image = np.asarray(image)
    shape = image.shape
    if image.dtype != np.uint8:
        image = (np.clip(np.nan_to_num(image.astype(np.float64)), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    if image.ndim == 2:
        image = image[:, :, None]
    if image.ndim != 3 or image.shape[2] not in _COLOR_TYPES or image.shape[0] == 0 or image.shape[1] == 0:
        raise PngError(f"an image must be [H, W] or [H, W, 3] with H, W > 0, got shape {shape}")
    height, width, channels = image.shape
    rows = np.concatenate([np.zeros((height, 1), np.uint8), image.reshape(height, width * channels)], axis=1)
    header = struct.pack(">IIBBBBB", width, height, 8, _COLOR_TYPES[channels], 0, 0, 0)
    return (
        _SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(rows.tobytes(), 6)) + _chunk(b"IEND", b"")
    )


def write_png(path: str | Path, image: np.ndarray) -> Path:
    """Write ``image`` (see :func:`encode_png`) to ``path`` atomically (temporary file + rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, encode_png(image))
    return path


def decode_png(data: bytes) -> np.ndarray:
    """The [H, W, C] uint8 pixels of a PNG written by :func:`encode_png` (8-bit, filter 0, not interlaced).

    For tests and for reading back pictures; raises :class:`PngError` on anything else.
    """
    if not data.startswith(_SIGNATURE):
        raise PngError("not a PNG file (bad signature)")
    offset, header, idat = len(_SIGNATURE), None, b""
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind, body = data[offset + 4 : offset + 8], data[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length : offset + 12 + length])
        if zlib.crc32(kind + body) & 0xFFFFFFFF != crc:
            raise PngError(f"PNG chunk {kind!r} fails its CRC")
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        offset += 12 + length
    if header is None:
        raise PngError("PNG without an IHDR chunk")
    width, height, depth, color, _, _, interlace = header
    channels = {0: 1, 2: 3}.get(color)
    if depth != 8 or channels is None or interlace:
        raise PngError(f"unsupported PNG (bit depth {depth}, colour type {color}, interlace {interlace})")
    rows = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(height, 1 + width * channels)
    if np.any(rows[:, 0]):
        raise PngError("unsupported PNG row filter (only filter 0 is read)")
    return rows[:, 1:].reshape(height, width, channels).copy()
