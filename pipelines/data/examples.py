"""Cutting prepared recordings into fixed-length examples and a held-out set.

The held-out set is split *by time*: the last ``holdout_fraction`` of the
concatenated recordings (in the order given), as whole non-overlapping
examples, never shuffled frames, so evaluation hears phrases the model never
trained on. Training examples overlap by half an example.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from instrument_agent.dsp import hz_to_midi
from instrument_agent.level import typical_loudness_db
from instrument_agent.personality.atomic import atomic_writer

from .cache import FrameFeatures

__all__ = ["Examples", "feature_stats", "split_examples"]

VOICED_CONFIDENCE = 0.5
"""Frames with f0 confidence at or above this count as voiced."""


@dataclass(frozen=True)
class Examples:
    """A batch of aligned examples.

    Attributes:
        audio: [E, T * hop] float32 at the learnerProfile's sample rate.
        f0_hz: [E, T] float32 Hz.
        f0_confidence: [E, T] float32 0..1.
        loudness_db: [E, T] float32 dB.
    """

    audio: np.ndarray
    f0_hz: np.ndarray
    f0_confidence: np.ndarray
    loudness_db: np.ndarray

    def __len__(self) -> int:
        return int(self.audio.shape[0])

    def save(self, path: str | Path) -> Path:
        """Write as .npz atomically (temporary file + rename)."""
        with atomic_writer(path) as handle:
            np.savez(handle, **self.__dict__)
        return Path(path)

    @classmethod
    def load(cls, path: str | Path) -> Examples:
        with np.load(Path(path)) as data:
            return cls(**{name: data[name] for name in ("audio", "f0_hz", "f0_confidence", "loudness_db")})


def _cut(audio: np.ndarray, feats: FrameFeatures, starts: list[int], frames: int, hop: int) -> Examples:
    return Examples(
        audio=np.stack([audio[s * hop : (s + frames) * hop] for s in starts]).astype(np.float32)
        if starts
        else np.zeros((0, frames * hop), np.float32),
        f0_hz=np.stack([feats.f0_hz[s : s + frames] for s in starts]) if starts else np.zeros((0, frames), np.float32),
        f0_confidence=np.stack([feats.f0_confidence[s : s + frames] for s in starts])
        if starts
        else np.zeros((0, frames), np.float32),
        loudness_db=np.stack([feats.loudness_db[s : s + frames] for s in starts])
        if starts
        else np.zeros((0, frames), np.float32),
    )


def _starts(n_frames: int, frames: int, step: int) -> list[int]:
    """Window starts covering ``n_frames``; a last window is aligned to the end
    when the regular hop would leave frames out."""
    if n_frames < frames:
        return []
    starts = list(range(0, n_frames - frames + 1, step))
    if starts[-1] + frames < n_frames:
        starts.append(n_frames - frames)
    return starts


def split_examples(
    audio: np.ndarray,
    feats: FrameFeatures,
    *,
    hop: int,
    frames_per_example: int,
    holdout_fraction: float,
) -> tuple[Examples, Examples]:
    """Split one timeline into training and held-out examples.

    Args:
        audio: [T * hop] float32, the concatenated prepared recordings.
        feats: their [T] frame features.
        hop: samples per frame.
        frames_per_example: frames in one example.
        holdout_fraction: share of the timeline held out (0 = none); at least
            one whole example when > 0.

    Returns:
        ``(train, holdout)``: train windows hop by half an example over the
        first part; holdout windows tile the last part without overlap.
    """
    n_frames = len(feats)
    n_hold = 0
    if holdout_fraction > 0:
        n_hold = max(1, math.floor(holdout_fraction * n_frames / frames_per_example + 0.5))
    hold_frames = n_hold * frames_per_example
    train_frames = n_frames - hold_frames
    train = _cut(
        audio,
        feats,
        _starts(train_frames, frames_per_example, max(1, frames_per_example // 2)),
        frames_per_example,
        hop,
    )
    holdout = _cut(
        audio, feats, [train_frames + i * frames_per_example for i in range(n_hold)], frames_per_example, hop
    )
    return train, holdout


def feature_stats(examples: Examples) -> dict[str, float]:
    """Normalisation statistics over the voiced frames of ``examples`` (the
    fields of ``amadeus.v1.FeatureStats`` but ``level_gain_db``, which the
    evaluation measures); loudness over all frames, and ``loudness_db_typical``
    (where velocity 100 sits, :func:`instrument_agent.level.typical_loudness_db`)
    over the voiced ones."""
    voiced = examples.f0_confidence >= VOICED_CONFIDENCE
    f0 = examples.f0_hz[voiced].astype(np.float64)
    loudness = examples.loudness_db.astype(np.float64).reshape(-1)
    stats = {
        "voiced_fraction": float(voiced.mean()) if voiced.size else 0.0,
        "loudness_db_mean": float(loudness.mean()) if loudness.size else 0.0,
        "loudness_db_std": float(loudness.std()) if loudness.size else 0.0,
        "loudness_db_max": float(loudness.max()) if loudness.size else 0.0,
        "loudness_db_typical": typical_loudness_db(examples.loudness_db, voiced),
        "f0_hz_min": 0.0,
        "f0_hz_max": 0.0,
        "f0_midi_mean": 0.0,
        "f0_midi_std": 0.0,
    }
    if f0.size:
        midi = hz_to_midi(f0)
        stats.update(
            f0_hz_min=float(f0.min()),
            f0_hz_max=float(f0.max()),
            f0_midi_mean=float(midi.mean()),
            f0_midi_std=float(midi.std()),
        )
    return stats
