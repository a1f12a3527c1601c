"""Preparing one recording end to end: load, check length, features, check voicing."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from .audio import LoadedAudio, load_audio
from .cache import FeatureCache, FrameFeatures, compute_features
from .errors import AudioTooShortError, NoVoicedFramesError
from .examples import VOICED_CONFIDENCE

__all__ = [
    "MIN_VOICED_FRACTION",
    "check_voiced",
    "example_frames",
    "file_sha256",
    "load_for_practice",
    "recording_features",
]

MIN_VOICED_FRACTION = 0.01
"""A recording with fewer voiced frames than this share has "no voiced frames"."""


def file_sha256(path: str | Path) -> str:
    """Hex sha256 of a file's bytes (the data digest recorded in the personality)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def example_frames(example_seconds: float, frame_rate: int) -> int:
    """Frames per example: ``example_seconds`` rounded to whole frames (>= 1)."""
    return max(1, int(round(example_seconds * frame_rate)))


def load_for_practice(path: str | Path, sample_rate: int, frame_rate: int, example_seconds: float) -> LoadedAudio:
    """:func:`load_audio`, cut to whole control frames, at least one example long.

    Raises AudioReadError, SilentAudioError, AudioTooShortError (naming ``path``).
    """
    loaded = load_audio(path, sample_rate)
    hop = sample_rate // frame_rate
    n_frames = loaded.audio.size // hop
    need = example_frames(example_seconds, frame_rate)
    if n_frames < need:
        raise AudioTooShortError(
            path,
            f"only {loaded.seconds:.2f} s of sound after trimming silence; one example needs "
            f"{need / frame_rate:.2f} s (learnerProfile.example_seconds)",
        )
    return LoadedAudio(
        audio=loaded.audio[: n_frames * hop],
        sample_rate=loaded.sample_rate,
        source_sample_rate=loaded.source_sample_rate,
        source_channels=loaded.source_channels,
        start_s=loaded.start_s,
        end_s=loaded.end_s,
    )


def check_voiced(path: str | Path, feats: FrameFeatures) -> float:
    """The voiced fraction of a recording; raises :class:`NoVoicedFramesError` below
    :data:`MIN_VOICED_FRACTION`."""
    fraction = float(np.mean(feats.f0_confidence >= VOICED_CONFIDENCE)) if len(feats) else 0.0
    if fraction < MIN_VOICED_FRACTION:
        raise NoVoicedFramesError(
            path,
            f"no pitched sound found ({fraction:.1%} of frames voiced); imitation needs a monophonic, "
            "pitched instrument recording",
        )
    return fraction


def recording_features(
    path: str | Path,
    audio: np.ndarray,
    sample_rate: int,
    frame_rate: int,
    f0_method: str,
    cache: FeatureCache | None,
) -> FrameFeatures:
    """Features of one prepared recording (cached), checked for voicing."""
    feats = compute_features(audio, sample_rate, frame_rate, f0_method, cache)
    check_voiced(path, feats)
    return feats
