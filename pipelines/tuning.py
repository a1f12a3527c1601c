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

:func:`run_tuning` runs the same ``tuning`` graph (:data:`pipelines.stages.graph.TUNING`)
in-process instead (the embedded runner, :mod:`pipelines.practice`: resumable, no
subprocess per step), against the local store; the studio's embedded backend uses it.

The parent's audio is its practice record's ``params["audio_uris"]``, which every
push (embedded or KFP) writes; versions published before that fall back to the
embedded run's ``work_dir`` (:func:`pipelines.kfp_pipelines._steps.recorded_audio`).
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["NothingToTuneError", "TuningResult", "run_tuning", "tune"]


class NothingToTuneError(ValueError):
    """Neither profile was changed."""


@dataclass(frozen=True)
class TuningResult:
    deu: str
    version: int
    mode: str  # "player" (no training) | "learner" (re-practised)
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
    recall = _steps.run_recall(
        deu, base_version, json.dumps(learner_changes), json.dumps(player_changes), registry_uri, mlflow_tracking_uri
    )
    if recall["mode"] == "player":
        version = _steps.derive_player(
            deu,
            recall["parent_version"],
            json.dumps(player_changes),
            practice_id,
            registry_uri,
            mlflow_tracking_uri,
            runner="embedded",
        )
        return TuningResult(deu, version, "player", time.perf_counter() - started)
    from pipelines.kfp_pipelines import run_local

    run = run_local(
        "tuning",
        pipeline_root=pipeline_root,
        deu=deu,
        practice_id=practice_id,
        base_version=recall["parent_version"],
        learner_profile_json=json.dumps(learner_changes),
        player_profile_json=json.dumps(player_changes),
        registry_uri=registry_uri,
        mlflow_tracking_uri=mlflow_tracking_uri,
        feature_cache_dir=str(feature_cache_dir or ""),
    )
    return TuningResult(deu, int(run["version"]), "learner", time.perf_counter() - started, run["pipeline_root"])


def run_tuning(
    deu: str,
    learner_profile,
    player_profile=None,
    *,
    base_version: int | None = None,
    home: str | Path | None = None,
    work_dir: str | Path | None = None,
    practice_id: str = "",
    progress: bool | Callable[..., None] = True,
    resume: bool = True,
    cache_dir: str | Path | None = None,
    runner: str = "embedded",
):
    """Tune ``deu`` in-process: the ``tuning`` graph walked by the embedded runner.

    Args:
        learner_profile: the new learnerProfile (message or dict of fields over the parent's).
            When it equals the parent's, only the playerProfile changes (no training).
        player_profile: the new playerProfile (message), or a dict of changes, or None (the parent's).
        base_version: the version to tune (default: the latest).
        home, work_dir, practice_id, progress, resume, cache_dir, runner: as for
            :func:`pipelines.practice.run_imitation`.

    Returns:
        The published version's PersonalityManifest (practice kind TUNING).

    Raises:
        UnknownDeuError, ProfileError, FileNotFoundError (the parent's audio is gone),
        EvaluationGateError (nothing published).
    """
    from instrument_agent.personality import UnknownDeuError
    from instrument_agent.personality.home import amadeus_home
    from instrument_agent.personality.store import PersonalityStore, validate_deu_name
    from instrument_agent.profiles import profile_to_dict
    from instrument_agent.proto import personality_pb2
    from pipelines.practice import practice_workdir, run_graph_in_process
    from pipelines.stages.graph import TUNING

    validate_deu_name(deu)
    home = Path(home) if home is not None else amadeus_home()
    try:
        parent = base_version or PersonalityStore(home).latest_version(deu)
    except UnknownDeuError:
        raise UnknownDeuError(f"tuning deu {deu!r}: it has no version in {home} to tune") from None
    learner = (
        profile_to_dict(learner_profile)
        if isinstance(learner_profile, personality_pb2.LearnerProfile)
        else dict(learner_profile or {})
    )
    player = player_profile
    if isinstance(player, dict):
        player = {k: v for k, v in player.items() if v is not None}
    key = hashlib.sha256(f"tuning\0{deu}\0{parent}\0{json.dumps(learner, sort_keys=True)}\0".encode())
    key.update(
        player.SerializeToString(deterministic=True)
        if hasattr(player, "SerializeToString")
        else json.dumps(player, sort_keys=True).encode()
    )
    key = key.hexdigest()
    workdir = Path(work_dir) if work_dir is not None else practice_workdir(home, deu, key, kind="tuning")
    cache_dir = Path(cache_dir) if cache_dir is not None else home / "cache" / "features"
    params = {
        "deu": deu,
        "practice_id": practice_id or f"tuning-{key[:12]}",
        "base_version": parent,
        "learner_profile_json": json.dumps(learner, sort_keys=True),
        "player_profile_json": player,
        "feature_cache_dir": str(cache_dir),
        "registry_uri": "",
        "mlflow_tracking_uri": "",
    }
    return run_graph_in_process(
        TUNING,
        params,
        deu=deu,
        home=home,
        workdir=workdir,
        resume=resume,
        progress=progress,
        cache_dir=cache_dir,
        record_params={"work_dir": str(workdir)},
        runner=runner,
    )
