"""The tuning practice: change a profile of a deu's version.

* **playerProfile only** — a new version at once: the parent's model files
  (hard links) with the new playerProfile (``PersonalityStore.derive``), no training.
* **learnerProfile changed** — the previous version's practice runs again
  with the changed profile: the same KFP pipeline (``amadeus-tuning``,
  :mod:`pipelines.kfp_pipelines`) executed through ``kfp.local``. Its
  ``recall`` step reads the parent's record (the audio it practised on, its
  learnerProfile), applies the change, and the stages re-run; the features
  stage finds the f0/loudness of that audio in the feature cache (keyed by
  audio digest and feature parameters), so only training, evaluation and
  push do real work when the change leaves the feature parameters alone.

Both paths are the functions the cluster's pipeline runs
(:mod:`pipelines.kfp_pipelines._steps`).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["NothingToTuneError", "TuningResult", "tune"]


class NothingToTuneError(ValueError):
    """Neither profile was changed."""


@dataclass(frozen=True)
class TuningResult:
    deu: str
    version: int
    mode: str          # "player" (no training) | "learner" (re-practised)
    seconds: float
    pipeline_root: str = ""


def tune(
    deu: str,
    *,
    learner_changes: Mapping[str, Any] | None = None,
    player_changes: Mapping[str, Any] | None = None,
    base_version: int = 0,
    registry_uri: str = "",
    mlflow_tracking_uri: str = "",
    feature_cache_dir: str | Path = "",
    pipeline_root: str | Path | None = None,
    practice_id: str = "",
) -> TuningResult:
    """Publish a tuned version of ``deu`` (of ``base_version``, default the latest).

    Args:
        learner_changes: learnerProfile fields to change (a re-run of the practice).
        player_changes: playerProfile fields to change.
        registry_uri, mlflow_tracking_uri: the registry (default: the configuration).
        feature_cache_dir: feature cache (default ``$AMADEUS_HOME/cache/features``).
        pipeline_root: kfp.local's artifact folder for a re-run.

    Raises:
        NothingToTuneError, ProfileError (an unknown field), UnknownDeuError,
        FileNotFoundError (the parent's audio is gone), LocalRunError.
    """
    from pipelines.kfp_pipelines import _steps

    learner_changes = {k: v for k, v in (learner_changes or {}).items() if v is not None}
    player_changes = {k: v for k, v in (player_changes or {}).items() if v is not None}
    if not learner_changes and not player_changes:
        raise NothingToTuneError(f"tuning {deu!r}: give at least one learnerProfile or playerProfile change")
    practice_id = practice_id or f"tuning-{uuid.uuid4().hex[:12]}"
    started = time.perf_counter()
    recall = _steps.run_recall(deu, base_version, json.dumps(learner_changes), json.dumps(player_changes), registry_uri, mlflow_tracking_uri)
    if recall["mode"] == "player":
        version = _steps.derive_player(
            deu, recall["parent_version"], json.dumps(player_changes), practice_id, registry_uri, mlflow_tracking_uri, runner="embedded"
        )
        return TuningResult(deu, version, "player", time.perf_counter() - started)
    from pipelines.kfp_pipelines import run_local

    run = run_local(
        "tuning", pipeline_root=pipeline_root, deu=deu, practice_id=practice_id, base_version=recall["parent_version"],
        learner_profile_json=json.dumps(learner_changes), player_profile_json=json.dumps(player_changes),
        registry_uri=registry_uri, mlflow_tracking_uri=mlflow_tracking_uri, feature_cache_dir=str(feature_cache_dir or ""),
    )
    return TuningResult(deu, int(run["version"]), "learner", time.perf_counter() - started, run["pipeline_root"])
