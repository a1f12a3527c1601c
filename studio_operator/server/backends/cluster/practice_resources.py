"""Practice custom resources as the cluster backend writes and reads them.

Pure functions (no Kubernetes connection), so the mapping is tested on its own:

* :func:`namespace_for` — the namespace of an ama (one per tenant);
* :func:`practice_body` — a ``PracticeHeader`` → a ``Practice`` object that
  validates against the CRD's schema and CEL rules (:mod:`studio_operator.crd`);
* :func:`progress_of` — a ``Practice`` object (its ``status``) → ``PracticeProgress``.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import re
from collections.abc import Mapping
from typing import Any

from google.protobuf import json_format

from instrument_agent.proto import personality_pb2, studio_pb2
from studio_operator.crd import GROUP, KIND, VERSION
from studio_operator.server.errors import InvalidRequestError

__all__ = [
    "AMA_LABEL",
    "MANAGED_BY",
    "REQUEST_ID_ANNOTATION",
    "UPLOADS_ANNOTATION",
    "namespace_for",
    "practice_body",
    "progress_of",
    "validate_practice_name",
]

AMA_LABEL = f"{GROUP}/ama"
DEU_LABEL = f"{GROUP}/deu"
MANAGED_BY = "amadeus-studio"
REQUEST_ID_ANNOTATION = f"{GROUP}/client-request-id"
UPLOADS_ANNOTATION = f"{GROUP}/uploads"

Phase = studio_pb2.PracticeProgress.Phase
Kind = personality_pb2.PracticeRecord.Kind
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")
_PHASES = {
    "Pending": Phase.PENDING,
    "Running": Phase.RUNNING,
    "Succeeded": Phase.SUCCEEDED,
    "Failed": Phase.FAILED,
    "Cancelled": Phase.CANCELLED,
}


def namespace_for(ama: str, base: str = "amadeus") -> str:
    """The Kubernetes namespace holding one ama's Practices.

    ``base`` itself for a single-user studio (``ama == ""``), else ``<base>-<ama>``
    (``amadeus-alice``). An ama that is not a valid DNS-1123 label there (it has
    ``.`` or ``_``, or the result is over 63 characters) gets a readable stem plus
    8 hex digits of ``sha256(ama)``, so distinct amas never share a namespace.
    """
    if not ama:
        return base
    name = f"{base}-{ama}"
    if len(name) <= 63 and _DNS_LABEL.match(name):
        return name
    stem = re.sub(r"[^a-z0-9]+", "-", ama.lower())[: max(0, 63 - len(base) - 10)].strip("-")
    return "-".join(p for p in (base, stem, hashlib.sha256(ama.encode()).hexdigest()[:8]) if p)


def validate_practice_name(practice_id: str) -> str:
    """A practice id is the Practice's name: a DNS-1123 label (``pr-…``)."""
    if not (practice_id.startswith("pr-") and len(practice_id) <= 63 and _DNS_LABEL.match(practice_id)):
        raise InvalidRequestError(
            f"practice_id {practice_id!r} is not a practice id (pr-…, lowercase letters, digits, '-')"
        )
    return practice_id


def _profile(message, drop: tuple[str, ...] = ()) -> dict[str, Any]:
    """The set fields of a profile override in the CRD's (protobuf JSON) names."""
    values = json_format.MessageToDict(message, preserving_proto_field_name=False)
    for key in drop:
        values.pop(key, None)
    return values


def practice_body(
    header: studio_pb2.PracticeHeader,
    *,
    name: str,
    namespace: str,
    ama: str,
    audio: list[str],
    performance_uri: str = "",
    uploads_uri: str = "",
) -> dict[str, Any]:
    """The ``Practice`` object for a validated ``PracticeHeader``.

    Args:
        header: the request (already checked by :func:`.uploads.validate_header`).
        name / namespace: where the object goes (name = practice id).
        ama: the tenant (a label; ``""`` when authentication is off).
        audio: every audio URI to learn from (uploads as ``s3://`` + ``header.audio_uris``).
        performance_uri: feedback: the URI of the performance the regions refer to.
        uploads_uri: where this practice's uploads went (an annotation, for cleanup).

    The playerProfile's ``configured`` flag has no field in the CRD: the operator
    marks an override as configured itself. A ``base_version`` of 0 (latest) is
    left out (``spec.baseVersion`` absent = the latest).
    """
    kind = Kind.Name(header.type).lower()
    spec: dict[str, Any] = {"deu": header.deu, "type": kind}
    if audio:
        spec["audio"] = list(audio)
    if header.base_version:
        spec["baseVersion"] = int(header.base_version)
    learner = _profile(header.learner_profile)
    if learner:
        spec["learnerProfile"] = learner
    player = _profile(header.player_profile, drop=("configured",))
    if player:
        spec["playerProfile"] = player
    if header.type == Kind.FEEDBACK:
        spec["feedback"] = {
            "performance": performance_uri,
            "regions": [
                {
                    "start": float(r.start_s),
                    "end": float(r.end_s),
                    "label": studio_pb2.FeedbackRegion.Label.Name(r.label).lower(),
                }
                for r in header.regions
            ],
            "method": header.feedback_method or "auto",
        }
        if header.finetune_steps:
            spec["feedback"]["finetuneSteps"] = int(header.finetune_steps)
    labels = {"app.kubernetes.io/managed-by": MANAGED_BY}
    if ama:
        labels[AMA_LABEL] = ama
    if _LABEL_VALUE.match(header.deu):
        labels[DEU_LABEL] = header.deu
    annotations = {}
    if header.client_request_id:
        annotations[REQUEST_ID_ANNOTATION] = header.client_request_id
    if uploads_uri:
        annotations[UPLOADS_ANNOTATION] = uploads_uri
    metadata: dict[str, Any] = {"name": name, "namespace": namespace, "labels": labels}
    if annotations:
        metadata["annotations"] = annotations
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": KIND, "metadata": metadata, "spec": spec}


def _parse_time(value: str | None) -> _dt.datetime | None:
    if not value:
        return None
    try:
        when = _dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=_dt.UTC)


def _latest_condition(conditions) -> Mapping[str, Any] | None:
    dated = [
        (c.get("lastTransitionTime") or "", i, c) for i, c in enumerate(conditions or ()) if isinstance(c, Mapping)
    ]
    return max(dated)[2] if dated else None


def progress_of(obj: Mapping[str, Any], digest: str = "") -> studio_pb2.PracticeProgress:
    """The ``PracticeProgress`` a Practice object reports.

    ``phase`` comes from ``status.phase`` (no status yet: PENDING, waiting for the
    operator); ``message`` from ``status.message``, else the latest condition's
    ``reason: message``; ``version`` and ``metrics`` from the status; ``updated``
    is the latest of the creation, start, completion and condition times.
    ``digest`` (the produced version's manifest digest) comes from the registry.
    """
    meta = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    latest = _latest_condition(status.get("conditions"))
    message = status.get("message") or ""
    if not message and latest is not None:
        message = ": ".join(p for p in (latest.get("reason", ""), latest.get("message", "")) if p)
    if not status.get("phase") and not message:
        message = "waiting for the practice operator"
    practice_type = spec.get("type", "")
    progress = studio_pb2.PracticeProgress(
        practice_id=meta.get("name", ""),
        deu=spec.get("deu", ""),
        type=Kind.Value(practice_type.upper()) if practice_type.upper() in Kind.keys() else 0,
        phase=_PHASES.get(status.get("phase") or "Pending", Phase.PHASE_UNSPECIFIED),
        message=message,
        version=int(status.get("version") or 0),
        digest=digest,
    )
    for key, value in (status.get("metrics") or {}).items():
        if isinstance(value, (int, float)):
            progress.metrics[key] = float(value)
    times = [meta.get("creationTimestamp"), status.get("startTime"), status.get("completionTime")]
    times += [c.get("lastTransitionTime") for c in status.get("conditions") or () if isinstance(c, Mapping)]
    parsed = [t for t in map(_parse_time, times) if t is not None]
    if parsed:
        progress.updated.FromDatetime(max(parsed))
    return progress
