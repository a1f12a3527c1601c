"""The KFP binding of each graph step: a thin call of the stage function it names.

The component bodies (:mod:`.components`) only import this module and call one function;
each function here parses the step's KFP parameters (JSON text), calls the stage function
(:mod:`pipelines.stages`) and copies its output into the step's artifact folder. The
in-process binding (:class:`pipelines.practice.InProcessSteps`) calls the same stages.

Each step works in its own :class:`pipelines.practice.Session` of the registry the
``registry_uri`` / ``mlflow_tracking_uri`` parameters name (empty: the environment's,
:meth:`pipelines.practice.Publisher.from_env`; by default the local store under
``$AMADEUS_HOME``): a step that needs the parent fetches it, a publishing step publishes.
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


def _session(registry_uri: str, mlflow_tracking_uri: str):
    from pipelines.practice import Publisher

    return Publisher.from_env(registry_uri, mlflow_tracking_uri).session()


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
        out = stages.ingest(uris, _json(learner_profile_json, "learner_profile_json"), work)
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

    with (
        _session(registry_uri, mlflow_tracking_uri) as session,
        tempfile.TemporaryDirectory(prefix="amadeus-train-") as work,
    ):
        parent = 0 if new else session.parent(deu, base_version)
        export_dir = stages.train(
            features_dir,
            _json(learner_profile_json, "learner_profile_json"),
            work,
            parent_export_dir=str(session.store.get(deu, parent).path) if parent else None,
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
    bundle_preview_dir: str,
) -> dict:
    """evaluate: held-out loss and baselines (``metrics_json``), a spectrogram of the first held-out
    example against its resynthesis (``spectrogram_png``), the held-out resynthesis (``preview_wav``)
    and the bundle's preview (``bundle_preview_dir``, its own artifact: push is given it).

    Returns the evaluation (``{"metrics", "blessed", "reasons"}``).
    """
    from pipelines import stages
    from pipelines.stages._artifacts import learner_profile as resolve

    from ._report import write_preview, write_spectrogram

    profile = _json(learner_profile_json, "learner_profile_json")
    Path(metrics_json).parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="amadeus-evaluate-") as work:
        with tempfile.TemporaryDirectory(prefix="amadeus-preview-") as preview:
            metrics = stages.evaluate(model_dir, features_dir, profile, work, preview_dir=preview)
            result = json.loads(Path(metrics).read_text())
            _copy_dir(preview, bundle_preview_dir)
    Path(metrics_json).write_text(json.dumps(result, indent=2, sort_keys=True))
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
    bundle_preview_dir: str,
    learner_profile_json: str,
    player_profile_json: str,
    parent_version: int,
    registry_uri: str,
    mlflow_tracking_uri: str,
) -> int:
    """push: a blessed personality (and evaluate's preview, ``bundle_preview_dir``, bundled as
    ``preview/``) → the next version of ``deu`` in the configured registry.

    Raises EvaluationGateError (nothing published) when evaluation did not bless it.
    Returns the published version number.
    """
    from pipelines import stages

    with _session(registry_uri, mlflow_tracking_uri) as session:
        if parent_version:
            session.fetch(deu, parent_version)
        pushed = stages.push(
            deu,
            model_dir,
            features_dir,
            evaluation_json,
            _json(learner_profile_json, "learner_profile_json"),
            ingest_dir=ingest_dir,
            preview_dir=bundle_preview_dir,
            player_profile=_json(player_profile_json, "player_profile_json") or None,
            parent_version=parent_version,
            practice_id=practice_id,
            runner="kfp",
            kind=practice_kind or "imitation",
            home=session.home,
        )
        return session.publish(session.store.get(deu, pushed["version"])).version


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
    from pipelines import stages

    with _session(registry_uri, mlflow_tracking_uri) as session:
        parent = session.parent(deu, base_version, required=True)
        change = _json(learner_profile_json, "learner_profile_json")
        return stages.recall(session.store.get(deu, parent), change).outputs()


def derive_player(
    deu: str,
    parent_version: int,
    player_profile_json: str,
    practice_id: str,
    registry_uri: str,
    mlflow_tracking_uri: str,
) -> int:
    """tuning without training: ``parent_version`` with a new playerProfile, published as the next version."""
    from pipelines import stages

    with _session(registry_uri, mlflow_tracking_uri) as session:
        parent = session.fetch(deu, parent_version)
        change = _json(player_profile_json, "player_profile_json")
        bundle = stages.derive(session.store, parent, change, practice_id=practice_id, runner="kfp")
        return session.publish(bundle).version


def run_feedback(
    deu: str,
    base_version: int,
    performance_uri: str,
    feedback_regions_json: str,
    feedback_method: str,
    finetune_steps: int,
    practice_id: str,
    registry_uri: str,
    mlflow_tracking_uri: str,
    report_json: str,
) -> int:
    """feedback: the judged performance and its regions → a version with optimised playerProfile knobs
    or a fine-tuned decoder (``feedback_method``; ``finetune_steps`` 0 = the default budget).
    Writes the method and why, and what moved, to ``report_json``; returns the new version."""
    from pipelines import stages
    from pipelines.feedback import FineTuneSettings, regions_from_json
    from pipelines.inputs import fetch_inputs

    regions = regions_from_json(_json(feedback_regions_json, "feedback_regions_json") or [])
    if not performance_uri:
        raise ValueError("pipeline parameter performance_uri: the feedback practice needs the judged performance")
    with (
        _session(registry_uri, mlflow_tracking_uri) as session,
        tempfile.TemporaryDirectory(prefix="amadeus-feedback-in-") as work,
    ):
        parent = session.fetch(deu, session.parent(deu, base_version, required=True))
        (path,) = fetch_inputs([performance_uri], work)
        result = stages.feedback(
            session.store,
            parent,
            path,
            regions,
            method=feedback_method or "auto",
            finetune=FineTuneSettings(steps=int(finetune_steps)) if finetune_steps else None,
            workdir=work,
            practice_id=practice_id,
            runner="kfp",
            performance_uri=performance_uri,
        )
        info = session.publish(session.store.get(deu, result.version))
    report = dict(result.outputs(), version=info.version, digest=info.digest)
    Path(report_json).parent.mkdir(parents=True, exist_ok=True)
    Path(report_json).write_text(json.dumps(report, indent=2, sort_keys=True))
    return info.version
