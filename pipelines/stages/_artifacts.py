"""Small helpers shared by the stages: profiles in, JSON artifacts out (atomically)."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

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
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle, indent=2, sort_keys=True)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


def read_json(path: str | Path) -> Any:
    return json.loads(Path(path).read_text())
