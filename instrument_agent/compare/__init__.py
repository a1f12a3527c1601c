"""Comparing two versions of a deu on the same phrase: measurements and a side-by-side spectrogram
(drawn with :mod:`instrument_agent.images`)."""

from .metrics import (
    FFT_SIZES,
    Comparison,
    a_weighted_db,
    compare_audio,
    rms_db,
    spectral_centroid_hz,
    spectral_distance,
)
from .session import DEMO_PHRASE, CompareResult, compare_versions, parse_version
from .spectrogram import side_by_side

__all__ = [
    "DEMO_PHRASE",
    "FFT_SIZES",
    "CompareResult",
    "Comparison",
    "a_weighted_db",
    "compare_audio",
    "compare_versions",
    "parse_version",
    "rms_db",
    "side_by_side",
    "spectral_centroid_hz",
    "spectral_distance",
]
