"""Feedback's ``knobs`` method: marked regions → playerProfile knobs that move toward the liked sound.

Steps (design and reasoning in docs/practice.md):

1. Read the performance (:func:`~.performance.read_performance`: mono, resampled to the
   model's rate, its f0 and loudness extracted as the personality's practice did).
2. Measure the descriptors (:mod:`.descriptors`) of the performance in each
   marked region; ``L`` = mean of the liked, ``B`` = mean of the disliked.
3. Run the decoder on the performance's curves (after the profile's
   transpose and loudness offset, as the engine does) to get the controls,
   and optimise the knobs through the differentiable synth (:mod:`.optimise`).

The feedback stage (:func:`pipelines.stages.feedback`) publishes the judged version's
model with the new playerProfile as the next version (no training).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .descriptors import DESCRIPTOR_NAMES, measure
from .optimise import KNOBS, RegionControls, optimise_knobs
from .performance import Performance, PerformanceReadError, read_performance
from .regions import Region

__all__ = ["Judgement", "PerformanceReadError", "judge"]


@dataclass(frozen=True)
class Judgement:
    """The knobs a judged performance asks for.

    Attributes:
        player_profile: the judged version's playerProfile with the knobs moved (configured).
        knobs, previous_knobs: knob → value after and before (dB/oct, dB).
        liked, disliked: mean descriptors of the liked and the disliked regions (None: none disliked).
        loss_start, loss_end: the objective before and after the optimisation.
        steps: optimiser steps taken.
        regions: the marked regions.
    """

    player_profile: object
    knobs: dict[str, float]
    previous_knobs: dict[str, float]
    liked: dict[str, float]
    disliked: dict[str, float] | None
    loss_start: float
    loss_end: float
    steps: int
    regions: tuple[Region, ...]

    def record_params(self, performance: str) -> dict[str, str]:
        """The practice record's parameters: the performance, regions, descriptors and knobs."""
        return {
            "performance": performance,
            "regions": json.dumps([r.to_dict() for r in self.regions]),
            "liked_descriptors": json.dumps(self.liked),
            "disliked_descriptors": json.dumps(self.disliked),
            "knobs_before": json.dumps(self.previous_knobs, sort_keys=True),
            "knobs_after": json.dumps(self.knobs, sort_keys=True),
            "objective": f"{self.loss_start:.4f} -> {self.loss_end:.4f} in {self.steps} steps",
        }


def _controls(bundle, f0_hz: np.ndarray, loudness_db: np.ndarray, n_harmonics: int) -> np.ndarray:
    from instrument_agent.decoder import NumpyDecoder

    decoder = NumpyDecoder(bundle.file("decoder.npz"), n_harmonics)
    encoded = decoder.encode(f0_hz.astype(np.float32), loudness_db.astype(np.float32))[:, None, :]  # [F, 1, E]
    controls, _ = decoder.run(encoded, decoder.initial_state(1))
    return controls[:, 0, :]  # [F, 1+H+N]


def judge(
    parent,
    performance: str | Path | Performance,
    regions: Sequence[Region],
    *,
    steps: int = 60,
    progress: Callable[[int, float], None] | None = None,
) -> Judgement:
    """Judge ``performance`` of the version ``parent`` (a Bundle) by its marked ``regions``.

    Args:
        parent: the judged version.
        performance: audio of a performance of that version (WAV/FLAC/...), or the
            :class:`~.performance.Performance` already read from it.
        regions: liked (``good``) and disliked (``bad``) spans, seconds; at least one liked.
        steps: optimiser steps.
        progress: called as ``progress(step, objective)`` after every optimiser step.

    Raises:
        FeedbackRegionError, PerformanceReadError.
    """
    from instrument_agent.proto import personality_pb2

    read = performance if isinstance(performance, Performance) else read_performance(parent, performance, regions)
    learner, player = read.learner, read.player
    sr, fr, hop = read.sample_rate, read.frame_rate, read.hop
    f0, loudness, audio = read.f0_hz, read.loudness_db, read.audio
    played_f0 = np.maximum(f0 * 2.0 ** (player.transpose / 12.0), 1.0)
    controls = _controls(parent, played_f0, loudness + player.loudness_offset_db, learner.n_harmonics)
    h = learner.n_harmonics

    measured: dict[str, list] = {"good": [], "bad": []}
    spans = []
    for region, (a, b) in zip(read.regions, read.spans, strict=True):
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
        level_gain_db=float(parent.manifest.feature_stats.level_gain_db),
        steps=steps,
        progress=progress,
    )

    new_player = personality_pb2.PlayerProfile()
    new_player.CopyFrom(player)
    for key, value in result.knobs.items():
        setattr(new_player, key, round(value, 3))
    new_player.configured = True
    as_dict = lambda v: None if v is None else dict(zip(DESCRIPTOR_NAMES, map(float, v), strict=True))  # noqa: E731
    return Judgement(
        player_profile=new_player,
        knobs=result.knobs,
        previous_knobs=result.start,
        liked=as_dict(liked),
        disliked=as_dict(disliked),
        loss_start=result.loss_start,
        loss_end=result.loss_end,
        steps=result.steps,
        regions=read.regions,
    )
