"""Status conditions of a Practice (Kubernetes conventions: one entry per type)."""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["condition", "now", "reject_spec_change", "set_condition"]


def now() -> str:
    """The current time as RFC 3339 UTC with seconds, as the API server writes it."""
    return datetime.datetime.now(tz=datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def condition(
    type_: str, status: bool | str, reason: str, message: str = "", generation: int | None = None
) -> dict[str, Any]:
    value = status if isinstance(status, str) else ("True" if status else "False")
    out: dict[str, Any] = {
        "type": type_,
        "status": value,
        "reason": reason,
        "message": message,
        "lastTransitionTime": now(),
    }
    if generation is not None:
        out["observedGeneration"] = generation
    return out


def set_condition(conditions: Sequence[Mapping[str, Any]] | None, new: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``conditions`` with ``new`` replacing the entry of its type.

    The transition time is kept when the status did not change.
    """
    out = [dict(c) for c in conditions or ()]
    for index, old in enumerate(out):
        if old.get("type") == new["type"]:
            merged = dict(new)
            if old.get("status") == new["status"] and old.get("lastTransitionTime"):
                merged["lastTransitionTime"] = old["lastTransitionTime"]
            out[index] = merged
            return out
    out.append(dict(new))
    return out


def reject_spec_change(body, status, patch) -> str | None:
    """Record ``SpecChangeRejected`` for a generation newer than the submitted one; the message, or
    None when there is nothing (new) to record. Called by the update handler and again by every
    poll: the conditions list is written whole, so a poll's patch based on an older status can
    drop the condition, and the next poll puts it back."""
    generation = int(body.get("metadata", {}).get("generation") or 0)
    submitted = int(status.get("observedGeneration") or 0)
    if not status.get("runId") or not submitted or generation <= submitted:
        return None
    conditions = patch.status.get("conditions") or status.get("conditions") or []
    if any(c.get("type") == "SpecChangeRejected" and c.get("observedGeneration") == generation for c in conditions):
        return None
    message = (
        f"spec generation {generation} ignored: the practice runs with generation {submitted}; "
        "a Practice's spec is immutable, create a new Practice instead"
    )
    patch.status["conditions"] = set_condition(
        conditions, condition("SpecChangeRejected", True, "SpecImmutable", message, generation)
    )
    return message
