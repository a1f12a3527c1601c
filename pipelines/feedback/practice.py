"""The feedback practice: marked regions of a performance → a new version with moved playerProfile knobs.

Steps (design and reasoning in docs/practice.md):

1. Fetch the judged version (the latest, or ``base_version``) from the registry.
2. Read the performance (any format; mono, resampled to the model's rate),
   extract its f0 and loudness as the personality's practice did.
3. Measure the descriptors (:mod:`.descriptors`) of the performance in each
   marked region; ``L`` = mean of the liked, ``B`` = mean of the disliked.
4. Run the decoder on the performance's curves (after the profile's
   transpose and loudness offset, as the engine does) to get the controls,
   and optimise the knobs through the differentiable synth (:mod:`.optimise`).
5. Publish the parent's model with the new playerProfile as the next
   version (no training): practice kind FEEDBACK, the regions, the measured
   descriptors and the knob changes in its record.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from .descriptors import DESCRIPTOR_NAMES, measure
from .optimise import KNOBS, RegionControls, optimise_knobs
from .regions import FeedbackRegionError, Region, check_regions

__all__ = ["FeedbackResult", "PerformanceReadError", "run_feedback"]


class PerformanceReadError(ValueError):
    """The performance audio can't be read (names the file)."""


@dataclass(frozen=True)
class FeedbackResult:
    deu: str
    version: int
    parent_version: int
    knobs: dict[str, float]
    previous_knobs: dict[str, float]
    liked: dict[str, float]
    disliked: dict[str, float] | None
    loss_start: float
    loss_end: float
    regions: list[Region] = field(default_factory=list)


def _load(path: str | Path, sample_rate: int) -> np.ndarray:
    import soundfile

    try:
        audio, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except (OSError, RuntimeError, soundfile.LibsndfileError) as exc:
        raise PerformanceReadError(f"{path}: cannot read the performance audio ({exc})") from None
    audio = audio.mean(axis=1)
    if audio.size == 0 or not np.any(audio):
        raise PerformanceReadError(f"{path}: the performance is silent")
    if rate != sample_rate:
        import librosa

        audio = librosa.resample(audio, orig_sr=rate, target_sr=sample_rate).astype(np.float32)
    return audio


def _controls(bundle, f0_hz: np.ndarray, loudness_db: np.ndarray, n_harmonics: int) -> np.ndarray:
    from instrument_agent.decoder import NumpyDecoder

    decoder = NumpyDecoder(bundle.file("decoder.npz"), n_harmonics)
    encoded = decoder.encode(f0_hz.astype(np.float32), loudness_db.astype(np.float32))[:, None, :]  # [F, 1, E]
    controls, _ = decoder.run(encoded, decoder.initial_state(1))
    return controls[:, 0, :]  # [F, 1+H+N]


def run_feedback(
    deu: str,
    performance: str | Path,
    regions: Sequence[Region],
    *,
    base_version: int | None = None,
    registry=None,
    practice_id: str = "",
    steps: int = 60,
    runner: str = "embedded",
    progress: Callable[[int, float], None] | None = None,
    performance_uri: str = "",
) -> FeedbackResult:
    """Judge ``performance`` of ``deu`` by its marked ``regions`` and publish the tuned version.

    Args:
        deu: the deu.
        performance: audio of a performance of that deu (WAV/FLAC/...).
        regions: liked (``good``) and disliked (``bad``) spans, seconds; at least one liked.
        base_version: the judged version (default: the latest).
        registry: a :class:`pipelines.registry.Registry` (default: from the configuration).
        practice_id, runner: recorded in the practice record (runner: ``embedded``, ``kfp``, ``job``).
        steps: optimiser steps.
        performance_uri: where ``performance`` came from (e.g. the ``s3://`` URI it was
            fetched from), recorded instead of the local path.

    Raises:
        FeedbackRegionError, PerformanceReadError, UnknownDeuError.
    """
    from instrument_agent import features as agent_features
    from instrument_agent.personality.store import PersonalityStore
    from instrument_agent.profiles import resolve_learner_profile, resolve_player_profile
    from instrument_agent.proto import personality_pb2
    from pipelines.registry import open_registry

    registry = registry or open_registry()
    started = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    with tempfile.TemporaryDirectory(prefix="amadeus-feedback-") as tmp:
        store = PersonalityStore(tmp)
        parent = registry.fetch_into(store, deu, base_version or registry.latest_version(deu))
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
        f0, loudness, audio = f0[:frames], loudness[:frames], audio[: frames * hop]
        played_f0 = np.maximum(f0 * 2.0 ** (player.transpose / 12.0), 1.0)
        controls = _controls(parent, played_f0, loudness + player.loudness_offset_db, learner.n_harmonics)
        h = learner.n_harmonics

        measured = {"good": [], "bad": []}
        spans = []
        for region in regions:
            a, b = int(round(region.start * fr)), min(frames, int(round(region.end * fr)))
            if b - a < 4:
                raise FeedbackRegionError(
                    f"--{region.label} {region.start:g}-{region.end:g}: fewer than 4 control frames of sound"
                )
            values = measure(audio[a * hop : b * hop], f0[a:b], sr, fr)
            measured[region.label].append([values[n] for n in DESCRIPTOR_NAMES])
            spans.append(
                RegionControls(
                    amplitude=controls[a:b, :1],
                    harmonic_distribution=controls[a:b, 1 : 1 + h],
                    noise_magnitudes=controls[a:b, 1 + h :],
                    f0_hz=played_f0[a:b].astype(np.float32),
                    label=region.label,
                )
            )
        liked = np.mean(measured["good"], axis=0)
        disliked = np.mean(measured["bad"], axis=0) if measured["bad"] else None
        reverb_ir = np.load(parent.file("reverb_ir.npy")) if parent.has_file("reverb_ir.npy") else None
        result = optimise_knobs(
            spans,
            liked,
            disliked,
            {k: float(getattr(player, k)) for k in KNOBS},
            sample_rate=sr,
            frame_rate=fr,
            reverb_ir=reverb_ir,
            reverb_mix=float(player.reverb_mix),
            steps=steps,
            progress=progress,
        )

        new_player = personality_pb2.PlayerProfile()
        new_player.CopyFrom(player)
        for key, value in result.knobs.items():
            setattr(new_player, key, round(value, 3))
        new_player.configured = True
        record = personality_pb2.PracticeRecord(
            kind=personality_pb2.PracticeRecord.FEEDBACK, practice_id=practice_id, runner=runner
        )
        record.started.FromJsonString(started)
        record.finished.GetCurrentTime()
        record.data_digests.append(__import__("hashlib").sha256(Path(performance).read_bytes()).hexdigest())
        as_dict = lambda v: None if v is None else dict(zip(DESCRIPTOR_NAMES, map(float, v)))  # noqa: E731
        record.params.update(
            {
                "performance": performance_uri or str(performance),
                "regions": json.dumps([r.to_dict() for r in regions]),
                "liked_descriptors": json.dumps(as_dict(liked)),
                "disliked_descriptors": json.dumps(as_dict(disliked)),
                "knobs_before": json.dumps(result.start, sort_keys=True),
                "knobs_after": json.dumps(result.knobs, sort_keys=True),
                "objective": f"{result.loss_start:.4f} -> {result.loss_end:.4f} in {result.steps} steps",
            }
        )
        derived = store.derive(parent, player_profile=new_player, practice=record)
        info = registry.publish(derived)
    return FeedbackResult(
        deu=deu,
        version=info.version,
        parent_version=parent.version,
        knobs=result.knobs,
        previous_knobs=result.start,
        liked=as_dict(liked),
        disliked=as_dict(disliked),
        loss_start=result.loss_start,
        loss_end=result.loss_end,
        regions=list(regions),
    )
