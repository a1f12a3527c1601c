"""The feedback practice's step, ``feedback``: marked regions of a performance → a new version
with moved playerProfile knobs (no training).

The judgement (descriptors of the liked and disliked regions, the knobs optimised through the
differentiable synthesizer) is :func:`pipelines.feedback.judge`; this stage commits the judged
version's model with the new playerProfile as the next version, practice kind FEEDBACK, the
regions, the measured descriptors and the knob changes in its record.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from instrument_agent.personality import Bundle
from instrument_agent.personality.store import PersonalityStore
from instrument_agent.proto import personality_pb2

if TYPE_CHECKING:
    from pipelines.feedback import Judgement

__all__ = ["FeedbackResult", "feedback"]


@dataclass(frozen=True)
class FeedbackResult:
    """A feedback practice's new version (in the stage's store) and the judgement that moved it.

    Attributes:
        deu, version, digest: the new version in the store the stage committed to.
        parent_version: the judged version.
        judgement: the knobs after and before, the liked and disliked descriptors, the objective
            (:class:`pipelines.feedback.Judgement`).
    """

    deu: str
    version: int
    digest: str
    parent_version: int
    judgement: Judgement

    def outputs(self) -> dict[str, Any]:
        """The step's report (JSON-able): what KFP writes as the ``report`` artifact."""
        return {
            "version": self.version,
            "digest": self.digest,
            "parent_version": self.parent_version,
            "knobs": self.judgement.knobs,
            "previous_knobs": self.judgement.previous_knobs,
            "liked": self.judgement.liked,
            "disliked": self.judgement.disliked,
            "loss": [self.judgement.loss_start, self.judgement.loss_end],
        }


def feedback(
    store: PersonalityStore,
    parent: Bundle,
    performance: str | Path,
    regions: Sequence,
    *,
    practice_id: str = "",
    runner: str = "embedded",
    steps: int = 60,
    progress: Callable[[int, float], None] | None = None,
    performance_uri: str = "",
    started: str | None = None,
) -> FeedbackResult:
    """Judge ``performance`` of ``parent`` by its ``regions`` and commit the tuned version into ``store``.

    Args:
        store: the local store holding ``parent``; the new version is committed there.
        parent: the judged version.
        performance: a local audio file of a performance of that version.
        regions: :class:`pipelines.feedback.Region` spans, seconds; at least one liked.
        practice_id, runner: recorded in the practice record (runner: ``embedded``, ``kfp``, ``job``).
        steps: optimiser steps; progress: ``progress(step, objective)`` after each.
        performance_uri: where ``performance`` came from (e.g. an ``s3://`` URI), recorded
            instead of the local path.
        started: RFC 3339 start time (default: now).

    Raises:
        FeedbackRegionError, PerformanceReadError.
    """
    from pipelines.feedback import judge

    record = personality_pb2.PracticeRecord(
        kind=personality_pb2.PracticeRecord.FEEDBACK, practice_id=practice_id, runner=runner
    )
    if started:
        record.started.FromJsonString(started)
    else:
        record.started.GetCurrentTime()
    judgement = judge(parent, performance, regions, steps=steps, progress=progress)
    record.finished.GetCurrentTime()
    record.data_digests.append(hashlib.sha256(Path(performance).read_bytes()).hexdigest())
    record.params.update(judgement.record_params(performance_uri or str(performance)))
    derived = store.derive(parent, player_profile=judgement.player_profile, practice=record)
    return FeedbackResult(parent.deu, derived.version, derived.digest, parent.version, judgement)
