"""What each KFP component does, as plain functions over paths and JSON strings.

The component bodies (:mod:`.components`) only import this module and call
one function; every function here calls the shared stage functions
(:mod:`pipelines.stages`): one implementation, run by kfp.local, by a KFP
cluster, or in-process by tests.

Registry settings travel as pipeline parameters (``registry_uri``,
``mlflow_tracking_uri``); empty ones fall back to the environment
(:meth:`pipelines.registry.RegistryConfig.from_env`), whose default is the
local store under ``$AMADEUS_HOME``.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

__all__ = [
    "derive_player",
    "run_evaluate",
    "run_feedback",
    "run_features",
    "run_ingest",
    "run_push",
    "run_recall",
    "run_train",
]


def _json(text: str | None, what: str) -> Any:
    try:
        return json.loads(text) if text else {}
    except ValueError as exc:
        raise ValueError(f"pipeline parameter {what}: not valid JSON ({exc})") from None


def _registry(registry_uri: str, mlflow_tracking_uri: str):
    from pipelines.registry import RegistryConfig, open_registry

    return open_registry(RegistryConfig.from_env(uri=registry_uri, mlflow_tracking_uri=mlflow_tracking_uri))


class _ScratchStore:
    """A throw-away local store for one step (``with _ScratchStore() as store``): parents are
    fetched into it under their registry numbers, the push stage commits into it, and the
    registry then publishes from it. Uniform for the local and the S3 registry."""

    def __enter__(self):
        from instrument_agent.personality.store import PersonalityStore

        self._tmp = tempfile.TemporaryDirectory(prefix="amadeus-step-home-")
        return PersonalityStore(self._tmp.name)

    def __exit__(self, *exc):
        self._tmp.cleanup()


def _materialise(uris: list[str], folder: Path) -> list[str]:
    """Local paths for audio URIs: local paths as they are, ``s3://`` objects downloaded."""
    from pipelines.registry import RegistryConfig
    from pipelines.registry.s3 import parse_s3_uri

    paths = []
    for i, uri in enumerate(uris):
        if not uri.startswith("s3://"):
            paths.append(str(Path(uri.removeprefix("file://"))))
            continue
        from urllib.parse import urlparse

        from minio import Minio

        config = RegistryConfig.from_env()
        if not config.s3_endpoint:
            raise ValueError(f"audio {uri}: set AMADEUS_S3_ENDPOINT to read s3:// audio")
        endpoint = urlparse(config.s3_endpoint)
        client = Minio(
            endpoint.netloc,
            access_key=config.access_key,
            secret_key=config.secret_key,
            secure=endpoint.scheme == "https",
        )
        bucket, key = parse_s3_uri(uri)
        target = folder / f"{i:03d}-{Path(key).name}"
        client.fget_object(bucket, key, str(target))
        paths.append(str(target))
    return paths


def _copy_dir(source: str | Path, destination: str | Path) -> None:
    destination = Path(destination)
    if destination.exists():
        shutil.rmtree(destination)
    shutil.copytree(source, destination)


def run_ingest(audio_uris: str, learner_profile_json: str, out_dir: str) -> int:
    """ingest: audio URIs (JSON list) → prepared recordings in ``out_dir``. Returns their count."""
    from pipelines import stages

    uris = _json(audio_uris, "audio_uris")
    if not isinstance(uris, list) or not uris:
        raise ValueError("pipeline parameter audio_uris: expected a non-empty JSON list of audio paths or s3:// URIs")
    with tempfile.TemporaryDirectory(prefix="amadeus-ingest-") as work:
        (Path(work) / "audio").mkdir()
        paths = _materialise(uris, Path(work) / "audio")
        out = stages.ingest(paths, _json(learner_profile_json, "learner_profile_json"), work)
        table = json.loads((Path(out) / "recordings.json").read_text())
        for row, uri in zip(table["recordings"], uris):
            if uri.startswith("s3://"):  # local paths keep ingest's absolute path
                row["uri"] = uri
        (Path(out) / "recordings.json").write_text(json.dumps(table, indent=2, sort_keys=True))
        _copy_dir(out, out_dir)
    return len(uris)


def run_features(ingest_dir: str, learner_profile_json: str, cache_dir: str, out_dir: str) -> dict:
    """features: prepared recordings → examples + stats in ``out_dir`` (features cached by audio digest).

    Returns the cache counters ``{"hits", "misses"}`` of this run.
    """
    from pipelines import stages

    with tempfile.TemporaryDirectory(prefix="amadeus-features-") as work:
        out = stages.features(ingest_dir, _json(learner_profile_json, "learner_profile_json"), work, cache_dir or None)
        _copy_dir(out, out_dir)
    return json.loads((Path(out_dir) / "stats.json").read_text())["cache"]


def _resolve_parent(registry, store, deu: str, base_version: int) -> int:
    from instrument_agent.personality import UnknownDeuError

    try:
        version = base_version or registry.latest_version(deu)
    except UnknownDeuError:
        return 0
    registry.fetch_into(store, deu, version)
    return version


def run_train(
    features_dir: str,
    learner_profile_json: str,
    deu: str,
    base_version: int,
    new: bool,
    registry_uri: str,
    mlflow_tracking_uri: str,
    out_dir: str,
) -> int:
    """train: examples → exported personality files in ``out_dir`` (continuing the parent unless ``new``).

    Returns the parent version it continued from (0 for none).
    """
    from pipelines import stages

    registry = _registry(registry_uri, mlflow_tracking_uri)
    with _ScratchStore() as store, tempfile.TemporaryDirectory(prefix="amadeus-train-") as work:
        parent = 0 if new else _resolve_parent(registry, store, deu, base_version)
        parent_export = str(store.get(deu, parent).path) if parent else None
        export_dir = stages.train(
            features_dir,
            _json(learner_profile_json, "learner_profile_json"),
            work,
            parent_export_dir=parent_export,
            progress=False,
        )
        _copy_dir(export_dir, out_dir)
    return parent


def run_evaluate(
    model_dir: str,
    features_dir: str,
    learner_profile_json: str,
    metrics_json: str,
    spectrogram_png: str,
    preview_wav: str,
) -> dict:
    """evaluate: held-out loss and baselines (``metrics_json``), a spectrogram of the first held-out
    example against its resynthesis (``spectrogram_png``) and the held-out resynthesis (``preview_wav``).

    Returns the evaluation (``{"metrics", "blessed", "reasons"}``).
    """
    from pipelines import stages

    from ._report import write_preview, write_spectrogram

    profile = _json(learner_profile_json, "learner_profile_json")
    with tempfile.TemporaryDirectory(prefix="amadeus-evaluate-") as work:
        result = json.loads(Path(stages.evaluate(model_dir, features_dir, profile, work)).read_text())
    Path(metrics_json).parent.mkdir(parents=True, exist_ok=True)
    Path(metrics_json).write_text(json.dumps(result, indent=2, sort_keys=True))
    from pipelines.stages._artifacts import learner_profile as resolve

    target, predicted, sample_rate = write_preview(model_dir, features_dir, resolve(profile).sample_rate, preview_wav)
    write_spectrogram(target, predicted, sample_rate, spectrogram_png)
    return result


def run_push(
    deu: str,
    practice_id: str,
    practice_kind: str,
    model_dir: str,
    features_dir: str,
    ingest_dir: str,
    evaluation_json: str,
    learner_profile_json: str,
    player_profile_json: str,
    parent_version: int,
    registry_uri: str,
    mlflow_tracking_uri: str,
) -> int:
    """push: a blessed personality → the next version of ``deu`` in the configured registry.

    Raises EvaluationGateError (nothing published) when evaluation did not bless it.
    Returns the published version number.
    """
    from instrument_agent.profiles import merge_profile, resolve_player_profile
    from pipelines import stages

    registry = _registry(registry_uri, mlflow_tracking_uri)
    player = _json(player_profile_json, "player_profile_json")
    with _ScratchStore() as store:
        base_player = None
        if parent_version:
            base_player = registry.fetch_into(store, deu, parent_version).manifest.player_profile
        player_profile = None
        if player:  # changes over the parent's playerProfile (or the defaults)
            base = resolve_player_profile(base_player)
            player_profile = merge_profile(base, dict(player, configured=True), source="player_profile_json")
        pushed = stages.push(
            deu,
            model_dir,
            features_dir,
            evaluation_json,
            _json(learner_profile_json, "learner_profile_json"),
            ingest_dir=ingest_dir,
            player_profile=player_profile,
            parent_version=parent_version,
            practice_id=practice_id,
            runner="kfp",
            kind=practice_kind or "imitation",
            home=store.home,
        )
        return registry.publish(store.get(deu, pushed["version"])).version


def run_recall(
    deu: str,
    base_version: int,
    learner_profile_json: str,
    player_profile_json: str,
    registry_uri: str,
    mlflow_tracking_uri: str,
) -> dict:
    """tuning's first step: what changed, and the previous practice's record.

    Returns ``{"mode": "player" | "learner", "parent_version", "audio_uris" (JSON),
    "learner_profile_json" (the parent's profile with the change applied)}``.
    """
    from instrument_agent.personality import UnknownDeuError

    registry = _registry(registry_uri, mlflow_tracking_uri)
    try:
        parent = base_version or registry.latest_version(deu)
    except UnknownDeuError:
        raise UnknownDeuError(f"tuning deu {deu!r}: it has no version in {registry.location} to tune") from None
    with _ScratchStore() as store:
        bundle = registry.fetch_into(store, deu, parent)
        return _recall(bundle, parent, learner_profile_json)


def _recall(bundle, parent: int, learner_profile_json: str) -> dict:
    from instrument_agent.profiles import merge_profile, profile_to_dict, resolve_learner_profile

    change = _json(learner_profile_json, "learner_profile_json")
    learner = resolve_learner_profile(
        merge_profile(bundle.manifest.learner_profile, change, source="learner_profile_json")
    )
    mode = (
        "learner"
        if learner.SerializeToString(deterministic=True)
        != resolve_learner_profile(bundle.manifest.learner_profile).SerializeToString(deterministic=True)
        else "player"
    )
    return {
        "mode": mode,
        "parent_version": parent,
        "audio_uris": json.dumps(recorded_audio(bundle)) if mode == "learner" else "[]",
        "learner_profile_json": json.dumps(profile_to_dict(learner), sort_keys=True),
    }


def recorded_audio(bundle) -> list[str]:
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


def derive_player(
    deu: str,
    parent_version: int,
    player_profile_json: str,
    practice_id: str,
    registry_uri: str,
    mlflow_tracking_uri: str,
    runner: str = "kfp",
) -> int:
    """tuning without training: ``parent_version`` with a new playerProfile, published as the next version."""

    registry = _registry(registry_uri, mlflow_tracking_uri)
    with _ScratchStore() as store:
        parent = registry.fetch_into(store, deu, parent_version)
        return _derive(registry, store, parent, player_profile_json, practice_id, runner)


def _derive(registry, store, parent, player_profile_json: str, practice_id: str, runner: str) -> int:
    from instrument_agent.profiles import merge_profile, resolve_player_profile
    from instrument_agent.proto import personality_pb2

    change = _json(player_profile_json, "player_profile_json")
    player = resolve_player_profile(
        merge_profile(
            resolve_player_profile(parent.manifest.player_profile),
            dict(change, configured=True),
            source="player_profile_json",
        )
    )
    practice = personality_pb2.PracticeRecord(
        kind=personality_pb2.PracticeRecord.TUNING, practice_id=practice_id, runner=runner
    )
    practice.started.GetCurrentTime()
    practice.finished.GetCurrentTime()
    practice.data_digests.extend(parent.manifest.practice.data_digests)
    practice.params.update(dict(parent.manifest.practice.params))
    practice.params["player_change"] = json.dumps(change, sort_keys=True)
    bundle = store.derive(parent, player_profile=player, practice=practice)
    return registry.publish(bundle).version


def run_feedback(
    deu: str,
    base_version: int,
    performance_uri: str,
    feedback_regions_json: str,
    practice_id: str,
    registry_uri: str,
    mlflow_tracking_uri: str,
    report_json: str,
) -> int:
    """feedback: the judged performance and its regions → a version with optimised playerProfile knobs.
    Writes the knob changes and measured descriptors to ``report_json``; returns the new version."""
    from pipelines.feedback import regions_from_json
    from pipelines.feedback import run_feedback as feedback

    regions = regions_from_json(_json(feedback_regions_json, "feedback_regions_json") or [])
    if not performance_uri:
        raise ValueError("pipeline parameter performance_uri: the feedback practice needs the judged performance")
    with tempfile.TemporaryDirectory(prefix="amadeus-feedback-in-") as work:
        (path,) = _materialise([performance_uri], Path(work))
        result = feedback(
            deu,
            path,
            regions,
            base_version=base_version or None,
            registry=_registry(registry_uri, mlflow_tracking_uri),
            practice_id=practice_id,
            runner="kfp",
        )
    Path(report_json).parent.mkdir(parents=True, exist_ok=True)
    Path(report_json).write_text(
        json.dumps(
            {
                "version": result.version,
                "parent_version": result.parent_version,
                "knobs": result.knobs,
                "previous_knobs": result.previous_knobs,
                "liked": result.liked,
                "disliked": result.disliked,
                "loss": [result.loss_start, result.loss_end],
            },
            indent=2,
            sort_keys=True,
        )
    )
    return result.version
