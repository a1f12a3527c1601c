"""Feature cache: per-frame f0, confidence and loudness of a prepared recording,
keyed by the sha256 of its audio samples and of every feature parameter.

Entries are ``<root>/<key[:2]>/<key>.npz`` written atomically (temporary file
+ rename), so an interrupted run never leaves a truncated entry; an entry that
fails to load is recomputed.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from instrument_agent.personality.atomic import atomic_writer

__all__ = ["FEATURES_VERSION", "FeatureCache", "FrameFeatures", "compute_features", "default_cache_dir"]

FEATURES_VERSION = 1
"""Bumped whenever feature code changes what it computes (invalidates the cache)."""


@dataclass(frozen=True)
class FrameFeatures:
    """Per-frame conditioning of one recording (T frames at the frame rate).

    Attributes:
        f0_hz: [T] float32 Hz, unvoiced frames interpolated from neighbours.
        f0_confidence: [T] float32 voicing confidence, 0..1.
        loudness_db: [T] float32 A-weighted dB re full scale (see instrument_agent.features).
    """

    f0_hz: np.ndarray
    f0_confidence: np.ndarray
    loudness_db: np.ndarray

    def __len__(self) -> int:
        return int(self.f0_hz.size)


def default_cache_dir() -> Path:
    """``$AMADEUS_HOME/cache/features``."""
    from instrument_agent.personality.home import amadeus_home

    return amadeus_home() / "cache" / "features"


class FeatureCache:
    """A directory of feature files keyed by audio digest + parameters.

    Attributes:
        root: the cache directory.
        hits, misses: lookups served from / not found in the cache (this instance).
    """

    def __init__(self, root: str | Path | None = None):
        self.root = Path(root) if root is not None else default_cache_dir()
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(audio: np.ndarray, params: dict) -> str:
        """sha256 over the float32 samples and the canonical JSON of ``params``."""
        digest = hashlib.sha256(np.ascontiguousarray(audio, dtype=np.float32).tobytes())
        digest.update(json.dumps({"v": FEATURES_VERSION, **params}, sort_keys=True).encode())
        return digest.hexdigest()

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.npz"

    def get(self, key: str) -> FrameFeatures | None:
        path = self._path(key)
        try:
            with np.load(path) as data:
                found = FrameFeatures(data["f0_hz"], data["f0_confidence"], data["loudness_db"])
        except (OSError, KeyError, ValueError, zipfile.BadZipFile):
            self.misses += 1
            return None
        self.hits += 1
        return found

    def put(self, key: str, features: FrameFeatures) -> Path:
        path = self._path(key)
        with atomic_writer(path) as handle:
            np.savez(
                handle,
                f0_hz=features.f0_hz,
                f0_confidence=features.f0_confidence,
                loudness_db=features.loudness_db,
            )
        return path


def compute_features(
    audio: np.ndarray,
    sample_rate: int,
    frame_rate: int,
    f0_method: str = "pyin",
    cache: FeatureCache | None = None,
) -> FrameFeatures:
    """f0, confidence and loudness of ``audio`` ([n] float32), from ``cache`` when present.

    T = int(n * frame_rate / sample_rate) frames (instrument_agent.features' convention).
    """
    from instrument_agent import features

    params = {"sample_rate": int(sample_rate), "frame_rate": int(frame_rate), "f0_method": f0_method}
    key = FeatureCache.key(audio, params) if cache is not None else ""
    if cache is not None:
        found = cache.get(key)
        if found is not None:
            return found
    f0, confidence = features.compute_f0(audio, sample_rate, frame_rate, method=f0_method)
    loudness = features.compute_loudness(audio, sample_rate, frame_rate)
    result = FrameFeatures(f0.astype(np.float32), confidence.astype(np.float32), loudness.astype(np.float32))
    if cache is not None:
        cache.put(key, result)
    return result
