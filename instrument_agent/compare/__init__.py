"""Comparing two versions of a deu on the same phrase: measurements, spectrograms, a PNG writer."""

from .metrics import (
    FFT_SIZES,
    Comparison,
    a_weighted_db,
    compare_audio,
    rms_db,
    spectral_centroid_hz,
    spectral_distance,
)
from .png import png_bytes, read_png_size, write_png
from .session import DEMO_PHRASE, CompareResult, compare_versions, parse_version
from .spectrogram import RANGE_DB, colorize, side_by_side, spectrogram_db

__all__ = [
    "DEMO_PHRASE",
    "FFT_SIZES",
    "RANGE_DB",
    "CompareResult",
    "Comparison",
    "a_weighted_db",
    "colorize",
    "compare_audio",
    "compare_versions",
    "parse_version",
    "png_bytes",
    "read_png_size",
    "rms_db",
    "side_by_side",
    "spectral_centroid_hz",
    "spectral_distance",
    "spectrogram_db",
    "write_png",
]
