"""Status conditions of a Practice (Kubernetes conventions: one entry per type)."""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["condition", "now", "set_condition"]


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
