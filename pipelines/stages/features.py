"""Stage 2, ``features`` (TFX's Transform): prepared audio → f0/loudness examples.

Output directory (``<workdir>/features``)::

    train.npz      Examples (audio [E, n], f0_hz / f0_confidence / loudness_db [E, T]),
                   windows hopping by half an example
    holdout.npz    the last holdout_fraction of the timeline, whole examples
    stats.json     feature statistics (amadeus.v1.FeatureStats fields) of the training
                   set, per-recording voiced fraction, example counts, and the training
                   part's coverage map (``coverage``: :meth:`CoverageMap.to_dict`, every
                   training frame counted once, not once per overlapping example)

Features come from the cache (:class:`pipelines.data.FeatureCache`) when the
same prepared audio was analysed with the same parameters before.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from instrument_agent.coverage_map import CoverageMap
from pipelines.data import (
    AudioTooShortError,
    FeatureCache,
    FrameFeatures,
    example_frames,
    feature_stats,
    recording_features,
    split_examples,
)

from ._artifacts import learner_profile as _resolve
from ._artifacts import write_json

__all__ = ["features"]


def features(
    ingest_dir: str | Path,
    learner_profile,
    workdir: str | Path,
    cache_dir: str | Path | None = None,
    progress=None,
) -> str:
    """Compute (or reuse) features of every recording and cut examples.

    Args:
        ingest_dir: output of :func:`~pipelines.stages.ingest`.
        learner_profile: message or dict (sample_rate, frame_rate, f0_method,
            example_seconds, holdout_fraction).
        workdir: the practice's work directory.
        cache_dir: feature cache (default ``$AMADEUS_HOME/cache/features``).
        progress: optional callable(done, total, name) after each recording.

    Returns:
        The features output directory (str).

    Raises:
        NoVoicedFramesError naming the recording; AudioTooShortError when the
        set is too short for one training and one held-out example.
    """
    profile = _resolve(learner_profile)
    ingest_dir = Path(ingest_dir)
    recordings = json.loads((ingest_dir / "recordings.json").read_text())["recordings"]
    cache = FeatureCache(cache_dir)
    hop = profile.sample_rate // profile.frame_rate
    audio_parts, feature_parts, voiced = [], [], {}
    for i, row in enumerate(recordings):
        audio = np.load(ingest_dir / row["audio"])
        feats = recording_features(
            row["source"], audio, profile.sample_rate, profile.frame_rate, profile.f0_method, cache
        )
        audio_parts.append(audio[: len(feats) * hop])
        feature_parts.append(feats)
        voiced[row["source"]] = float(np.mean(feats.f0_confidence >= 0.5))
        if progress is not None:
            progress(i + 1, len(recordings), Path(row["source"]).name)
    timeline = FrameFeatures(
        *(np.concatenate([getattr(f, n) for f in feature_parts]) for n in ("f0_hz", "f0_confidence", "loudness_db"))
    )
    frames = example_frames(profile.example_seconds, profile.frame_rate)
    train, holdout = split_examples(
        np.concatenate(audio_parts),
        timeline,
        hop=hop,
        frames_per_example=frames,
        holdout_fraction=profile.holdout_fraction,
    )
    if len(train) == 0:
        total = len(timeline) / profile.frame_rate
        need = frames / profile.frame_rate * (2 if profile.holdout_fraction > 0 else 1)
        raise AudioTooShortError(
            ", ".join(Path(r["source"]).name for r in recordings),
            f"{total:.2f} s of sound in all is too short: one training and one held-out example need {need:.2f} s",
        )
    trained = len(timeline) - len(holdout) * frames  # the frames the training examples cut from
    coverage = CoverageMap.from_frames(
        timeline.f0_hz[:trained], timeline.f0_confidence[:trained], timeline.loudness_db[:trained], profile.frame_rate
    )
    out = Path(workdir) / "features"
    train.save(out / "train.npz")
    holdout.save(out / "holdout.npz")
    write_json(
        out / "stats.json",
        {
            "feature_stats": feature_stats(train),
            "holdout_feature_stats": feature_stats(holdout) if len(holdout) else {},
            "voiced_fraction_per_recording": voiced,
            "train_examples": len(train),
            "holdout_examples": len(holdout),
            "frames_per_example": frames,
            "cache": {"hits": cache.hits, "misses": cache.misses},
            "coverage": coverage.to_dict(),
        },
    )
    return str(out)
