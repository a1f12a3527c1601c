"""``run_practice(kind, request, home)``: the one entry point of every practice.

The CLI (``amadeus practice imitation|tuning|feedback``, which the operator's Kubernetes Job
runs too) and the studio's embedded runner call it. It resolves the parent version through
the :class:`~.publisher.Publisher`, turns the request into the pipeline parameters of the
practice's graph (:data:`pipelines.stages.graph.GRAPHS`), and walks that graph in-process
(:func:`~.embedded.run_graph_in_process`) in a work directory keyed by the practice's inputs,
so the same practice run again resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from instrument_agent.proto import personality_pb2

from .embedded import practice_workdir, run_graph_in_process
from .publisher import Publisher, Session
from .request import NothingToTuneError, PracticeRequest, PracticeResult

__all__ = ["run_practice"]


@dataclass(frozen=True)
class _Plan:
    """A practice's graph parameters, the key of its work directory and its parent version."""

    params: dict[str, Any]
    key: str
    parent_version: int
    record_params: dict[str, str]


def _file_or_uri_digest(uri: str) -> str:
    """A local file's sha256; an ``s3://`` URI stands for itself (it is fetched by the practice)."""
    from pipelines.data import file_sha256
    from pipelines.inputs import is_remote

    return uri if is_remote(uri) else file_sha256(uri.removeprefix("file://"))


def _check_local(uris: Sequence[str]) -> list[str]:
    """The URIs with local paths made absolute; a missing local file raises PracticeInputError naming it."""
    from pipelines.inputs import PracticeInputError, is_remote

    out = []
    for uri in uris:
        if is_remote(uri):
            out.append(uri)
            continue
        path = Path(uri.removeprefix("file://"))
        if not path.is_file():
            raise PracticeInputError(uri, "no such file")
        out.append(str(path.resolve()))
    return out


def _registry_params(cache_dir: Path) -> dict[str, str]:
    return {"feature_cache_dir": str(cache_dir), "registry_uri": "", "mlflow_tracking_uri": ""}


def _imitation(request: PracticeRequest, session: Session, cache_dir: Path, parent: int | None = None) -> _Plan:
    from pipelines.stages._artifacts import learner_profile

    uris = [str(u) for u in request.audio]
    if not uris:
        raise ValueError("imitation needs at least one audio file")
    uris = _check_local(uris)
    profile = learner_profile(request.learner_profile)
    if parent is None:
        parent = (
            0 if request.new else session.parent(request.deu, request.base_version, required=bool(request.base_version))
        )
    if parent == 0 and profile.prior not in ("auto", "none"):  # a named prior: fail before any work
        from instrument_agent.priors import find_prior

        named = find_prior(profile.prior)
        named.check_fits(profile)
        named.verify()
    digest = hashlib.sha256(f"imitation\0{request.deu}\0{parent}\0".encode())
    for uri in uris:
        digest.update(_file_or_uri_digest(uri).encode())
    digest.update(profile.SerializeToString(deterministic=True))
    key = digest.hexdigest()
    params = {
        "deu": request.deu,
        "practice_id": request.practice_id or key[:16],
        "audio_uris": uris,
        "base_version": parent,
        "new": parent == 0,
        "learner_profile_json": profile,
        "player_profile_json": dict(request.player_profile or {}),
        **_registry_params(cache_dir),
    }
    return _Plan(params, key, parent, {"audio_files": str(len(uris))})


def _changes(value) -> dict[str, Any]:
    from instrument_agent.profiles import profile_to_dict

    if isinstance(value, personality_pb2.LearnerProfile):
        return profile_to_dict(value)
    return {k: v for k, v in dict(value or {}).items() if v is not None}


def _tuning(request: PracticeRequest, session: Session, cache_dir: Path, parent: int | None = None) -> _Plan:
    learner, player = _changes(request.learner_profile), _changes(request.player_profile)
    if not learner and not player:
        raise NothingToTuneError(f"tuning {request.deu!r}: give at least one learnerProfile or playerProfile change")
    if parent is None:
        parent = session.parent(request.deu, request.base_version, required=True)
    key = hashlib.sha256(f"tuning\0{request.deu}\0{parent}\0{json.dumps(learner, sort_keys=True)}\0".encode())
    key.update(json.dumps(player or None, sort_keys=True).encode())
    key = key.hexdigest()
    params = {
        "deu": request.deu,
        "practice_id": request.practice_id or f"tuning-{key[:12]}",
        "base_version": parent,
        "learner_profile_json": json.dumps(learner, sort_keys=True),
        "player_profile_json": player,
        **_registry_params(cache_dir),
    }
    return _Plan(params, key, parent, {})


def _feedback(request: PracticeRequest, session: Session, cache_dir: Path, parent: int | None = None) -> _Plan:
    from pipelines.feedback import Region, check_method, regions_from_json

    if not request.performance:
        raise ValueError(f"feedback {request.deu!r}: the feedback practice needs the judged performance")
    (performance,) = _check_local([str(request.performance)])
    regions = list(request.regions)
    if not all(isinstance(r, Region) for r in regions):
        regions = regions_from_json(regions)
    if parent is None:
        parent = session.parent(request.deu, request.base_version, required=True)
    key = hashlib.sha256(f"feedback\0{request.deu}\0{parent}\0{_file_or_uri_digest(performance)}\0".encode())
    method = check_method(request.feedback_method)
    budget = [[r.to_dict() for r in regions], request.feedback_steps, method, request.finetune_steps]
    key.update(json.dumps(budget, sort_keys=True).encode())
    key = key.hexdigest()
    params = {
        "deu": request.deu,
        "practice_id": request.practice_id or f"feedback-{key[:12]}",
        "base_version": parent,
        "performance_uri": performance,
        "feedback_regions_json": regions,
        "feedback_method": method,
        "finetune_steps": int(request.finetune_steps or 0),
        **_registry_params(cache_dir),
    }
    return _Plan(params, key, parent, {})


_PLANS = {"imitation": _imitation, "tuning": _tuning, "feedback": _feedback}


def _interrupted_publish(kind: str, request: PracticeRequest, session: Session, cache_dir: Path, plan: _Plan):
    """The plan and work directory of this same practice when it already published the deu's
    latest version but was stopped before its push step was marked done; else None.

    Between the store's atomic commit and the step's marker, a kill leaves a published version
    whose practice does not know it. The rerun's own plan then has that version as its parent
    (another work directory: the key holds the parent), and would practise again. The version's
    record names the work directory it came from: when that is where this request, planned from
    the version's own parent, would have worked, the rerun resumes there and its push adopts the
    version instead of publishing a second one.
    """
    from instrument_agent.personality import UnknownDeuError

    if request.base_version or request.work_dir is not None:
        return None
    try:
        latest = session.registry.latest_version(request.deu)
    except UnknownDeuError:
        return None
    manifest = session.fetch(request.deu, latest).manifest
    recorded = manifest.practice.params.get("work_dir", "")
    if not recorded or any((Path(recorded) / f"{step}.done.json").is_file() for step in ("push", "derive")):
        return None
    earlier = _PLANS[kind](request, session, cache_dir, parent=int(manifest.parent_version))
    workdir = practice_workdir(session.home, request.deu, earlier.key, kind=kind)
    if str(workdir) != recorded or manifest.practice.practice_id != earlier.params["practice_id"]:
        return None
    return earlier, workdir


def run_practice(
    kind: str, request: PracticeRequest, home: str | Path | None = None, *, publisher: Publisher | None = None
) -> PracticeResult:
    """Run one practice of ``request.deu`` and publish its new version.

    Args:
        kind: ``imitation`` (learn from ``request.audio``), ``tuning`` (change the profiles:
            a playerProfile change is a new version at once, a learnerProfile change re-runs
            the parent's practice on its recorded audio) or ``feedback`` (move the playerProfile
            knobs, or fine-tune the decoder, toward the liked regions of ``request.performance``).
        request: what to practise (:class:`~.request.PracticeRequest`).
        home: the Amadeus home whose local store gets the version (default ``$AMADEUS_HOME``);
            ignored when ``publisher`` is given.
        publisher: where the version goes instead (e.g. :meth:`Publisher.from_env`: S3, MLflow).

    Returns:
        The published version's number and digest in the registry, its metrics and every step's outputs.

    Raises:
        UnknownPracticeKindError; ValueError subclasses with a sentence for the ama: DataError
        (bad input audio, naming the file), PracticeInputError, ProfileError, FeedbackRegionError,
        PerformanceReadError, FeedbackMethodError, NothingToTuneError; UnknownDeuError; FileNotFoundError (a tuned
        version's audio is gone); EvaluationGateError (nothing published); KeyboardInterrupt (resumable).
    """
    from instrument_agent.personality.store import validate_deu_name
    from pipelines.stages import UnknownPracticeKindError
    from pipelines.stages.graph import GRAPHS

    if kind not in _PLANS:
        raise UnknownPracticeKindError(f"unknown practice kind {kind!r} (expected one of {', '.join(_PLANS)})")
    validate_deu_name(request.deu)
    if publisher is None:
        from instrument_agent.personality.home import amadeus_home

        publisher = Publisher.local(Path(home) if home is not None else amadeus_home())
    with publisher.session() as session:
        cache_dir = Path(request.cache_dir) if request.cache_dir is not None else session.cache_dir
        plan = _PLANS[kind](request, session, cache_dir)
        workdir = Path(request.work_dir) if request.work_dir is not None else None
        workdir = workdir or practice_workdir(session.home, request.deu, plan.key, kind=kind)
        interrupted = _interrupted_publish(kind, request, session, cache_dir, plan)
        if interrupted is not None:
            plan, workdir = interrupted
        version, outputs = run_graph_in_process(
            GRAPHS[kind],
            plan.params,
            session=session,
            workdir=workdir,
            resume=request.resume,
            progress=request.progress,
            cache_dir=cache_dir,
            record_params={"work_dir": str(workdir), **plan.record_params} if kind != "feedback" else {},
            runner=request.runner,
            feedback_steps=request.feedback_steps,
            finetune_steps=request.finetune_steps,
        )
        final = next(outputs[step] for step in reversed(outputs) if "digest" in outputs[step])
        return PracticeResult(
            kind=kind,
            deu=request.deu,
            version=version,
            digest=final["digest"],
            parent_version=plan.parent_version,
            metrics={k: float(v) for k, v in final.get("metrics", {}).items()},
            location=session.location,
            steps=outputs,
            work_dir=str(workdir),
        )
