"""Tuning's first step, ``recall``: what a tuning changes, and what the parent practised on.

A tuning that leaves the learnerProfile as it was changes only the playerProfile (mode
``player``: :mod:`.derive`, no training). Otherwise (mode ``learner``) the stages re-run
on the audio the parent practised on with the parent's learnerProfile, the change applied.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from instrument_agent.personality import Bundle
from instrument_agent.proto import personality_pb2

__all__ = ["Recalled", "recall", "recorded_audio"]


@dataclass(frozen=True)
class Recalled:
    """What :func:`recall` found.

    Attributes:
        mode: ``player`` (the learnerProfile is unchanged) or ``learner`` (re-practise).
        parent_version: the version being tuned.
        audio_uris: the parent's recordings (paths or ``s3://`` URIs) in mode ``learner``, else empty.
        learner_profile: the parent's learnerProfile with the change applied, resolved.
    """

    mode: str
    parent_version: int
    audio_uris: tuple[str, ...]
    learner_profile: personality_pb2.LearnerProfile

    def outputs(self) -> dict[str, Any]:
        """The graph step's outputs (JSON-able; ``audio_uris`` and the profile as JSON text, as KFP passes them)."""
        from instrument_agent.profiles import profile_to_dict

        return {
            "mode": self.mode,
            "parent_version": self.parent_version,
            "audio_uris": json.dumps(list(self.audio_uris)),
            "learner_profile_json": json.dumps(profile_to_dict(self.learner_profile), sort_keys=True),
        }


def recall(parent: Bundle, learner_change: Mapping[str, Any] | personality_pb2.LearnerProfile | None) -> Recalled:
    """The tuning of ``parent`` that ``learner_change`` asks for.

    Args:
        parent: the version to tune.
        learner_change: learnerProfile fields to change (a message counts as all its fields).

    Raises:
        ProfileError: an unknown field or a value out of range.
        FileNotFoundError: the learnerProfile changes but the parent's audio can't be found.
    """
    from instrument_agent.profiles import merge_profile, profile_to_dict, resolve_learner_profile

    if isinstance(learner_change, personality_pb2.LearnerProfile):
        learner_change = profile_to_dict(learner_change)
    before = resolve_learner_profile(parent.manifest.learner_profile)
    learner = resolve_learner_profile(
        merge_profile(parent.manifest.learner_profile, dict(learner_change or {}), source="learner_profile_json")
    )
    changed = learner.SerializeToString(deterministic=True) != before.SerializeToString(deterministic=True)
    audio = tuple(recorded_audio(parent)) if changed else ()
    return Recalled("learner" if changed else "player", parent.version, audio, learner)


def recorded_audio(bundle: Bundle) -> list[str]:
    """The audio a version practised on: its record's ``audio_uris``, else the embedded
    runner's ``work_dir``/ingest/recordings.json sources, checked against the data digests.

    Raises:
        FileNotFoundError naming the version when its audio can't be found any more.
    """
    params = dict(bundle.manifest.practice.params)
    if params.get("audio_uris"):
        return json.loads(params["audio_uris"])
    table = Path(params.get("work_dir", "")) / "ingest" / "recordings.json"
    if params.get("work_dir") and table.is_file():
        rows = json.loads(table.read_text())["recordings"]
        if [r["sha256"] for r in rows] == list(bundle.manifest.practice.data_digests):
            return [r["source"] for r in rows]
    raise FileNotFoundError(
        f"{bundle.deu} v{bundle.version}: its practice record names no audio that still exists "
        "(no audio_uris param, no readable work_dir); run an imitation with the audio instead"
    )
