"""Small helpers shared by the stages: profiles in, JSON artifacts out (atomically)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from instrument_agent.personality.atomic import atomic_write
from instrument_agent.proto import personality_pb2

__all__ = ["learner_profile", "read_json", "write_json"]


def learner_profile(profile: personality_pb2.LearnerProfile | dict | None) -> personality_pb2.LearnerProfile:
    """A resolved learnerProfile from a message, a JSON-able dict (KFP parameters) or None (defaults)."""
    from instrument_agent.profiles import merge_profile, resolve_learner_profile

    if profile is None or isinstance(profile, dict):
        profile = merge_profile(personality_pb2.LearnerProfile(), profile or {}, source="learner_profile")
    return resolve_learner_profile(profile)


def write_json(path: str | Path, data: Any) -> Path:
    """Write ``data`` as indented JSON, atomically (temporary file + rename)."""
    return atomic_write(path, json.dumps(data, indent=2, sort_keys=True))


def read_json(path: str | Path) -> Any:
    return json.loads(Path(path).read_text())
