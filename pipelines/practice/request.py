"""What a practice is asked to do (:class:`PracticeRequest`) and what it made (:class:`PracticeResult`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from instrument_agent.proto import personality_pb2

if TYPE_CHECKING:
    from pipelines.feedback import Region

__all__ = ["NothingToTuneError", "PracticeRequest", "PracticeResult", "Progress"]

Progress = bool | Callable[..., None]
"""True: rich output on stderr; a callable(stage=, message=, step=, total_steps=, loss=, metrics=)
for a host; False: silence."""


class NothingToTuneError(ValueError):
    """A tuning practice without a learnerProfile or a playerProfile change."""


@dataclass(frozen=True)
class PracticeRequest:
    """One practice of ``deu``; which fields matter depends on the kind.

    Attributes:
        deu: the deu's name (imitation: a new deu, or the next version of an existing one).
        audio: imitation's recordings of one monophonic instrument (any format, rate, channels):
            local paths or ``s3://`` URIs, recorded as ``practice.params["audio_uris"]``.
        learner_profile: imitation: the learnerProfile (message, or fields over the defaults);
            tuning: learnerProfile fields to change over the parent's (a message counts whole).
        player_profile: playerProfile fields to change over the parent's (or the defaults).
        base_version: the version to continue / tune / judge (0: the latest).
        new: imitation: ignore earlier versions (no parent, no warm start).
        performance: feedback: the judged performance's audio (a local path or an ``s3://`` URI).
        regions: feedback: :class:`pipelines.feedback.Region` spans (at least one ``good``).
        feedback_steps: feedback: the knobs' optimiser steps.
        feedback_method: feedback: ``auto`` (measure what the knobs cannot express, then choose),
            ``knobs`` or ``finetune`` (docs/practice.md).
        finetune_steps: feedback: the fine-tune's training steps (None: the default budget).
        practice_id: recorded in the new version's practice record (default: from the work key).
        runner: recorded as the practice's runner (``embedded``; ``job`` in a Kubernetes Job).
        work_dir: the work directory (default ``<home>/practice/<deu>/<kind>-<key>``, keyed by the inputs).
        cache_dir: the feature cache (default: the publisher's, ``<home>/cache/features``).
        resume: reuse the finished steps and checkpoints of an earlier run of the same practice.
        progress: see :data:`Progress`.
    """

    deu: str
    audio: Sequence[str | Path] = ()
    learner_profile: personality_pb2.LearnerProfile | Mapping[str, Any] | None = None
    player_profile: Mapping[str, Any] | None = None
    base_version: int = 0
    new: bool = False
    performance: str | Path = ""
    regions: Sequence[Region] = ()
    feedback_steps: int = 60
    feedback_method: str = "auto"
    finetune_steps: int | None = None
    practice_id: str = ""
    runner: str = "embedded"
    work_dir: str | Path | None = None
    cache_dir: str | Path | None = None
    resume: bool = True
    progress: Progress = False


@dataclass(frozen=True)
class PracticeResult:
    """The version a practice published.

    Attributes:
        kind: imitation | tuning | feedback.
        deu, version, digest: the new version, as the registry numbered it, and its manifest's sha256.
        parent_version: the version it continued, tuned or judged (0: none).
        metrics: the new version's metrics (imitation and re-practised tuning: held-out loss and baselines).
        location: where it was published (the registry's location).
        steps: every step's outputs, in the order they ran (e.g. ``steps["feedback"]["knobs"]``).
        work_dir: the practice's work directory.
    """

    kind: str
    deu: str
    version: int
    digest: str
    parent_version: int
    metrics: dict[str, float]
    location: str
    steps: dict[str, dict] = field(default_factory=dict)
    work_dir: str = ""

    @property
    def mode(self) -> str:
        """How a tuning went: ``player`` (no training) or ``learner`` (re-practised); else the kind."""
        return self.steps.get("recall", {}).get("mode", self.kind)
