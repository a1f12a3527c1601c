"""A judged performance as the feedback methods read it: audio, f0 and loudness curves, the marked spans.

Both methods (the knobs, :mod:`.judge`, and the fine-tune, :mod:`.finetune`) and the choice
between them (:mod:`.choose`) start here, so they see the same curves: the performance is read
with the project's one loader (mono, resampled to the personality's rate) and its f0 and
loudness are extracted as the personality's practice extracted them (its learnerProfile's f0
method).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .regions import FeedbackRegionError, Region, check_regions

__all__ = ["Performance", "PerformanceReadError", "read_performance"]

_MIN_FRAMES = 4


class PerformanceReadError(ValueError):
    """The performance audio can't be read (names the file)."""


@dataclass(frozen=True)
class Performance:
    """A performance of one version, read for feedback.

    Attributes:
        audio: ``[frames · hop]`` float32 mono at ``sample_rate``.
        f0_hz, loudness_db: ``[frames]`` per control frame (Hz, dB).
        sample_rate, frame_rate: Hz, control frames per second.
        regions: the marked regions; spans: each region's ``(first, end)`` control frame.
        learner, player: the judged version's resolved profiles.
    """

    audio: np.ndarray
    f0_hz: np.ndarray
    loudness_db: np.ndarray
    sample_rate: int
    frame_rate: int
    regions: tuple[Region, ...]
    spans: tuple[tuple[int, int], ...]
    learner: object
    player: object

    @property
    def hop(self) -> int:
        return self.sample_rate // self.frame_rate

    def region_audio(self, index: int) -> np.ndarray:
        """Region ``index``'s audio, ``[(end − first) · hop]``."""
        a, b = self.spans[index]
        return self.audio[a * self.hop : b * self.hop]

    def labelled(self, label: str) -> list[int]:
        """Indices of the regions labelled ``label`` (good | bad)."""
        return [i for i, r in enumerate(self.regions) if r.label == label]


def _load(path: str | Path, sample_rate: int) -> np.ndarray:
    from instrument_agent.audio import AudioFileError, read_mono

    try:
        audio = read_mono(path, sample_rate).audio
    except AudioFileError as exc:
        raise PerformanceReadError(str(exc)) from None
    if not np.any(audio):
        raise PerformanceReadError(f"{path}: the performance is silent")
    return audio


def read_performance(parent, performance: str | Path, regions: Sequence[Region]) -> Performance:
    """Read ``performance`` of the version ``parent`` (a Bundle) with its marked ``regions``.

    Raises:
        PerformanceReadError: unreadable or silent audio.
        FeedbackRegionError: a region outside the performance, shorter than 0.25 s or with fewer
            than 4 control frames, or no liked region.
    """
    from instrument_agent import features as agent_features
    from instrument_agent.profiles import resolve_learner_profile, resolve_player_profile

    manifest = parent.manifest
    learner = resolve_learner_profile(manifest.learner_profile)
    player = resolve_player_profile(manifest.player_profile)
    sr, fr = manifest.sample_rate or learner.sample_rate, manifest.frame_rate or learner.frame_rate
    hop = sr // fr
    audio = _load(performance, sr)
    check_regions(list(regions), len(audio) / sr, min_seconds=0.25)
    f0 = agent_features.compute_f0(audio, sr, fr, method=learner.f0_method)
    f0 = np.asarray(f0[0] if isinstance(f0, tuple) else f0, np.float64)
    loudness = np.asarray(agent_features.compute_loudness(audio, sr, fr), np.float64)
    frames = min(len(f0), len(loudness), len(audio) // hop)
    spans = []
    for region in regions:
        a, b = int(round(region.start * fr)), min(frames, int(round(region.end * fr)))
        if b - a < _MIN_FRAMES:
            raise FeedbackRegionError(
                f"--{region.label} {region.start:g}-{region.end:g}: fewer than {_MIN_FRAMES} control frames of sound"
            )
        spans.append((a, b))
    return Performance(
        audio=np.asarray(audio[: frames * hop], np.float32),
        f0_hz=f0[:frames],
        loudness_db=loudness[:frames],
        sample_rate=int(sr),
        frame_rate=int(fr),
        regions=tuple(regions),
        spans=tuple(spans),
        learner=learner,
        player=player,
    )
