"""A Practice resource as the backends see it: identity, spec and pipeline parameters."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import json_format

from instrument_agent.proto import personality_pb2
from studio_operator.crd import GROUP

__all__ = ["GpuRequest", "PracticeRequest", "PracticeSpecError", "run_name_for"]


class PracticeSpecError(ValueError):
    """A Practice spec field the operator cannot use (e.g. a profile field unknown to the proto)."""

    def __init__(self, practice: str, field_path: str, problem: str):
        self.practice = practice
        self.field_path = field_path
        super().__init__(f"Practice {practice}: spec.{field_path}: {problem}")


def run_name_for(uid: str) -> str:
    """The run (KFP run display name / Job name) of the Practice with ``uid``.

    Derived from the uid only, so a restarted operator finds the run it
    submitted before instead of submitting a second one. 45 characters, a
    valid DNS-1123 label.
    """
    if not uid:
        raise ValueError("a Practice without metadata.uid cannot be submitted")
    return f"practice-{uid.lower()}"


@dataclass(frozen=True)
class GpuRequest:
    count: int = 0
    type: str = "nvidia.com/gpu"  # extended resource name / KFP accelerator type


@dataclass(frozen=True)
class PracticeRequest:
    """One Practice to run.

    ``learner_profile`` and ``player_profile`` are the overrides as protobuf
    JSON (canonical field names); ``regions`` are ``(start_s, end_s, label)``;
    ``feedback_method`` and ``finetune_steps`` are ``spec.feedback.method`` / ``finetuneSteps``.
    """

    name: str
    namespace: str
    uid: str
    generation: int
    deu: str
    type: str
    audio: tuple[str, ...] = ()
    base_version: int | None = None
    learner_profile: dict[str, Any] = field(default_factory=dict)
    player_profile: dict[str, Any] = field(default_factory=dict)
    performance: str = ""
    regions: tuple[tuple[float, float, str], ...] = ()
    feedback_method: str = "auto"  # auto | knobs | finetune (feedback)
    finetune_steps: int | None = None  # feedback: the fine-tune's budget (None: the default)
    gpu: GpuRequest = GpuRequest()
    cpu: str = ""
    memory: str = ""
    node_selector: dict[str, str] = field(default_factory=dict)
    tolerations: tuple[dict[str, Any], ...] = ()
    backend: str | None = None
    ama: str = ""  # the tenant: the ``amadeus.dev/ama`` label the studio puts on its Practices

    @property
    def run_name(self) -> str:
        return run_name_for(self.uid)

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}"

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> PracticeRequest:
        """Build from a Practice object (already valid against the CRD schema).

        Raises :class:`PracticeSpecError` when a profile override does not
        parse into its protobuf message.
        """
        meta = body.get("metadata", {})
        spec = body.get("spec", {})
        ref = f"{meta.get('namespace', '')}/{meta.get('name', '')}"
        learner = dict(spec.get("learnerProfile") or {})
        player = dict(spec.get("playerProfile") or {})
        for key, message, value in (
            ("learnerProfile", personality_pb2.LearnerProfile(), learner),
            ("playerProfile", personality_pb2.PlayerProfile(), player),
        ):
            try:
                json_format.ParseDict(value, message)
            except json_format.ParseError as exc:
                raise PracticeSpecError(ref, key, str(exc)) from None
        resources = spec.get("resources") or {}
        gpu = resources.get("gpu") or {}
        feedback = spec.get("feedback") or {}
        return cls(
            name=meta.get("name", ""),
            namespace=meta.get("namespace", ""),
            uid=meta.get("uid", ""),
            generation=int(meta.get("generation") or 1),
            deu=spec["deu"],
            type=spec["type"],
            audio=tuple(spec.get("audio") or ()),
            base_version=spec.get("baseVersion"),
            learner_profile=learner,
            player_profile=player,
            performance=feedback.get("performance", ""),
            regions=tuple((float(r["start"]), float(r["end"]), r["label"]) for r in feedback.get("regions") or ()),
            feedback_method=feedback.get("method") or "auto",
            finetune_steps=int(feedback["finetuneSteps"]) if feedback.get("finetuneSteps") else None,
            gpu=GpuRequest(count=int(gpu.get("count", 0)), type=gpu.get("type") or "nvidia.com/gpu"),
            cpu=resources.get("cpu", ""),
            memory=resources.get("memory", ""),
            node_selector=dict(resources.get("nodeSelector") or {}),
            tolerations=tuple(resources.get("tolerations") or ()),
            backend=spec.get("backend"),
            ama=(meta.get("labels") or {}).get(f"{GROUP}/ama", ""),
        )

    def pipeline_parameters(self, *, registry_uri: str = "", mlflow_tracking_uri: str = "") -> dict[str, Any]:
        """The run's parameters (names shared with ``pipelines.kfp_pipelines``).

        JSON-valued parameters are strings so they pass through KFP's
        ``STRING`` parameter type unchanged; ``base_version`` 0 means "latest".
        """
        player = dict(self.player_profile)
        if player:
            player["configured"] = True
        return {
            "deu": self.deu,
            "practice_id": self.uid,
            "audio_uris": json.dumps(list(self.audio)),
            "base_version": int(self.base_version or 0),
            "learner_profile_json": json.dumps(self.learner_profile, sort_keys=True),
            "player_profile_json": json.dumps(player, sort_keys=True),
            "performance_uri": self.performance,
            "feedback_regions_json": json.dumps(
                [{"start": s, "end": e, "label": label} for s, e, label in self.regions]
            ),
            "feedback_method": self.feedback_method,
            "finetune_steps": int(self.finetune_steps or 0),
            "registry_uri": registry_uri,
            "mlflow_tracking_uri": mlflow_tracking_uri,
        }
