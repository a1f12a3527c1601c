"""The feedback practice's step, ``feedback``: marked regions of a performance → a new version.

Two methods (docs/practice.md): ``knobs`` moves the playerProfile knobs through the
differentiable synthesizer (:func:`pipelines.feedback.judge`; the parent's model files are
shared, nothing trains); ``finetune`` trains the parent's decoder a little on the marked
regions, liked as targets, disliked pushed away, anchored to the parent's weights
(:func:`pipelines.feedback.fine_tune`, through :class:`pipelines.training.Trainer`: progress,
checkpoints, Ctrl-C resume). ``auto`` measures what the knobs cannot express and picks
(:func:`pipelines.feedback.choose_method`). The version is committed as practice kind FEEDBACK;
its record says which method ran and why, the regions, and what moved.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from instrument_agent.personality import Bundle
from instrument_agent.personality.store import PersonalityStore
from instrument_agent.proto import personality_pb2

if TYPE_CHECKING:
    from pipelines.feedback import FineTuneResult, FineTuneSettings, Judgement, MethodChoice

__all__ = ["FeedbackResult", "feedback"]

_KNOBS = ("harmonic_tilt", "noise_gain_db", "gain_db")


@dataclass(frozen=True)
class FeedbackResult:
    """A feedback practice's new version (in the stage's store) and what made it.

    Attributes:
        deu, version, digest: the new version in the store the stage committed to.
        parent_version: the judged version.
        choice: the method and why (:class:`pipelines.feedback.MethodChoice`).
        judgement: the knobs method's result (None after a fine-tune).
        finetune: the fine-tune's result (None after the knobs).
        knobs_before: the parent's knob values.
    """

    deu: str
    version: int
    digest: str
    parent_version: int
    choice: MethodChoice
    judgement: Judgement | None
    finetune: FineTuneResult | None
    knobs_before: dict[str, float]

    def outputs(self) -> dict[str, Any]:
        """The step's report (JSON-able): what KFP writes as the ``report`` artifact."""
        out: dict[str, Any] = {
            "version": self.version,
            "digest": self.digest,
            "parent_version": self.parent_version,
            "method": self.choice.method,
            "method_reason": self.choice.reason,
            "envelope_residual": self.choice.residual.to_dict(),
            "previous_knobs": self.knobs_before,
            "knobs": self.knobs_before,
        }
        if self.judgement is not None:
            out.update(
                knobs=self.judgement.knobs,
                liked=self.judgement.liked,
                disliked=self.judgement.disliked,
                loss=[self.judgement.loss_start, self.judgement.loss_end],
            )
        if self.finetune is not None:
            out.update(finetune_losses=self.finetune.losses, drift=self.finetune.drift, training=self.finetune.training)
        return out


def _record(kind_params: dict[str, str], practice_id: str, runner: str, started: str | None, performance: Path):
    record = personality_pb2.PracticeRecord(
        kind=personality_pb2.PracticeRecord.FEEDBACK, practice_id=practice_id, runner=runner
    )
    if started:
        record.started.FromJsonString(started)
    else:
        record.started.GetCurrentTime()
    record.data_digests.append(hashlib.sha256(Path(performance).read_bytes()).hexdigest())
    record.params.update(kind_params)
    return record


def _commit_finetuned(store: PersonalityStore, parent: Bundle, tuned: FineTuneResult, record) -> Bundle:
    """The fine-tuned model as the next version: the parent's profiles and feature statistics, lineage,
    and the fine-tune's losses as metrics (the parent's held-out figures described another model)."""
    manifest = personality_pb2.PersonalityManifest()
    manifest.CopyFrom(parent.manifest)
    manifest.ClearField("created")
    manifest.ClearField("files")
    manifest.metrics.clear()
    manifest.parent_version = parent.version
    manifest.parent_digest = parent.digest
    for key, value in tuned.losses.items():
        manifest.metrics[f"feedback/{key}"] = float(value)
    manifest.practice.CopyFrom(record)
    files = {e.name: e for e in sorted(Path(tuned.export_dir).iterdir()) if not e.name.startswith(".")}
    return store.commit(parent.deu, manifest, files)


def feedback(
    store: PersonalityStore,
    parent: Bundle,
    performance: str | Path,
    regions: Sequence,
    *,
    method: str = "auto",
    workdir: str | Path | None = None,
    practice_id: str = "",
    runner: str = "embedded",
    steps: int = 60,
    finetune: FineTuneSettings | None = None,
    progress: Callable[[int, float], None] | None = None,
    on_method: Callable[[MethodChoice], None] | None = None,
    show_training: bool = False,
    performance_uri: str = "",
    started: str | None = None,
) -> FeedbackResult:
    """Judge ``performance`` of ``parent`` by its ``regions`` and commit the new version into ``store``.

    Args:
        store: the local store holding ``parent``; the new version is committed there.
        parent: the judged version.
        performance: a local audio file of a performance of that version.
        regions: :class:`pipelines.feedback.Region` spans, seconds; at least one liked.
        method: ``auto`` | ``knobs`` | ``finetune`` (:func:`pipelines.feedback.choose_method`).
        workdir: the fine-tune's checkpoints and export (``<workdir>/finetune``; a re-run resumes
            there). None: a temporary folder (no resume).
        practice_id, runner: recorded in the practice record (runner: ``embedded``, ``kfp``, ``job``).
        steps: the knobs' optimiser steps. finetune: the fine-tune's settings (default budget).
        progress: ``progress(step, objective)`` after each optimiser / training step.
        on_method: called with the :class:`~pipelines.feedback.MethodChoice` before the method runs.
        show_training: the Trainer's rich progress bar during a fine-tune.
        performance_uri: where ``performance`` came from (e.g. an ``s3://`` URI), recorded
            instead of the local path.
        started: RFC 3339 start time (default: now).

    Raises:
        FeedbackRegionError, PerformanceReadError, FeedbackMethodError;
        pipelines.training.TrainingInterrupted (Ctrl-C during a fine-tune; resumable).
    """
    import json

    from pipelines.feedback import choose_method, fine_tune, judge, read_performance

    read = read_performance(parent, performance, regions)
    choice = choose_method(parent, read, method)
    if on_method is not None:
        on_method(choice)
    knobs_before = {k: float(getattr(read.player, k)) for k in _KNOBS}
    params = {
        "performance": performance_uri or str(performance),
        "regions": json.dumps([r.to_dict() for r in read.regions]),
        **choice.record_params(),
    }
    if choice.method == "knobs":
        judgement = judge(parent, read, read.regions, steps=steps, progress=progress)
        record = _record(
            {**params, **judgement.record_params(params["performance"])}, practice_id, runner, started, performance
        )
        record.finished.GetCurrentTime()
        bundle = store.derive(parent, player_profile=judgement.player_profile, practice=record)
        return FeedbackResult(
            parent.deu, bundle.version, bundle.digest, parent.version, choice, judgement, None, knobs_before
        )
    with ExitStack() as stack:
        root = Path(workdir) if workdir is not None else Path(stack.enter_context(tempfile.TemporaryDirectory()))
        tuned = fine_tune(parent, read, root / "finetune", finetune, progress=show_training, on_step=progress)
        record = _record({**params, **tuned.record_params()}, practice_id, runner, started, performance)
        record.finished.GetCurrentTime()
        bundle = _commit_finetuned(store, parent, tuned, record)
    return FeedbackResult(parent.deu, bundle.version, bundle.digest, parent.version, choice, None, tuned, knobs_before)
