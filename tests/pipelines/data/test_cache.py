"""Feature cache: keyed by audio digest + parameters, atomic, self-healing."""

from __future__ import annotations

import numpy as np

from pipelines.data import FeatureCache, compute_features


def _tone(f0: float = 220.0, seconds: float = 1.0, rate: int = 16000) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 6))).astype(np.float32)


def test_second_run_hits_the_cache_with_identical_features(tmp_path):
    audio = _tone()
    first_cache = FeatureCache(tmp_path)
    first = compute_features(audio, 16000, 50, "yin", first_cache)
    assert (first_cache.hits, first_cache.misses) == (0, 1)
    assert len(list(tmp_path.rglob("*.npz"))) == 1

    second_cache = FeatureCache(tmp_path)
    second = compute_features(audio, 16000, 50, "yin", second_cache)
    assert (second_cache.hits, second_cache.misses) == (1, 0)
    for name in ("f0_hz", "f0_confidence", "loudness_db"):
        assert np.array_equal(getattr(first, name), getattr(second, name))


def test_key_changes_with_audio_and_every_parameter():
    audio = _tone()
    base = FeatureCache.key(audio, {"sample_rate": 16000, "frame_rate": 50, "f0_method": "pyin"})
    changed_audio = audio.copy()
    changed_audio[0] += 1e-3
    assert FeatureCache.key(changed_audio, {"sample_rate": 16000, "frame_rate": 50, "f0_method": "pyin"}) != base
    assert FeatureCache.key(audio, {"sample_rate": 16000, "frame_rate": 100, "f0_method": "pyin"}) != base
    assert FeatureCache.key(audio, {"sample_rate": 16000, "frame_rate": 50, "f0_method": "yin"}) != base


def test_a_damaged_entry_is_recomputed(tmp_path):
    audio = _tone()
    cache = FeatureCache(tmp_path)
    compute_features(audio, 16000, 50, "yin", cache)
    (entry,) = tmp_path.rglob("*.npz")
    entry.write_bytes(entry.read_bytes()[:50])

    again = FeatureCache(tmp_path)
    result = compute_features(audio, 16000, 50, "yin", again)
    assert again.misses == 1 and len(result) == 50
    assert FeatureCache(tmp_path).get(
        FeatureCache.key(audio, {"sample_rate": 16000, "frame_rate": 50, "f0_method": "yin"})
    )


def test_no_temporary_files_are_left(tmp_path):
    compute_features(_tone(), 16000, 50, "yin", FeatureCache(tmp_path))
    assert not [p for p in tmp_path.rglob("*") if p.name.startswith(".")]
