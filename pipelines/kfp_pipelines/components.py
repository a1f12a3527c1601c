"""KFP v2 lightweight components, one per TFX-shaped stage.

Each body imports :mod:`pipelines.kfp_pipelines._steps` and calls one
function, which calls the shared stage functions (:mod:`pipelines.stages`).
The functions are plain at module level; :func:`make_components` wraps them
with ``dsl.component(base_image=image)`` so the image comes from configuration.

(No ``from __future__ import annotations`` here: KFP reads the annotations.)
"""

import os
from typing import NamedTuple

from kfp import dsl
from kfp.dsl import Artifact, Dataset, Input, Metrics, Model, Output

__all__ = ["DEFAULT_IMAGE", "Components", "make_components"]

DEFAULT_IMAGE = "ghcr.io/amadeus/studio:latest"


def ingest(audio_uris: str, learner_profile_json: str, recordings: Output[Dataset]) -> int:
    """ExampleGen: audio (local paths or s3:// URIs, a JSON list) → prepared mono recordings."""
    from pipelines.kfp_pipelines._steps import run_ingest

    return run_ingest(audio_uris, learner_profile_json, recordings.path)


def features(
    recordings: Input[Dataset], learner_profile_json: str, feature_cache_dir: str, examples: Output[Dataset]
) -> str:
    """Transform: f0 + loudness per frame (cached by audio digest) → training and held-out examples.
    Returns the cache counters as JSON (``{"hits": n, "misses": m}``)."""
    import json

    from pipelines.kfp_pipelines._steps import run_features

    return json.dumps(run_features(recordings.path, learner_profile_json, feature_cache_dir, examples.path))


def train(
    examples: Input[Dataset],
    learner_profile_json: str,
    deu: str,
    base_version: int,
    new: bool,
    registry_uri: str,
    mlflow_tracking_uri: str,
    model: Output[Model],
) -> int:
    """Trainer: examples → exported personality files; returns the parent version it continued (0: none)."""
    from pipelines.kfp_pipelines._steps import run_train

    return run_train(
        examples.path, learner_profile_json, deu, base_version, new, registry_uri, mlflow_tracking_uri, model.path
    )


def evaluate(
    model: Input[Model],
    examples: Input[Dataset],
    learner_profile_json: str,
    metrics: Output[Metrics],
    evaluation: Output[Artifact],
    spectrogram: Output[Artifact],
    preview: Output[Artifact],
    bundle_preview: Output[Artifact],
) -> bool:
    """Evaluator: held-out spectral loss vs the sine and 1/k baselines, the learnerProfile's gates,
    a spectrogram PNG and a resynthesis WAV (KFP UI), and the bundle's preview (a folder of the
    held-out recording and its resynthesis, WAVs and PNGs; push's input). Returns whether the
    personality is blessed."""
    from pipelines.kfp_pipelines._steps import run_evaluate

    result = run_evaluate(
        model.path,
        examples.path,
        learner_profile_json,
        evaluation.path,
        spectrogram.path,
        preview.path,
        bundle_preview.path,
    )
    for name, value in sorted(result["metrics"].items()):
        metrics.log_metric(name, float(value))
    spectrogram.metadata["mime_type"] = "image/png"
    preview.metadata["mime_type"] = "audio/wav"
    bundle_preview.metadata["bundled_as"] = "preview/"
    evaluation.metadata["blessed"] = bool(result["blessed"])
    return bool(result["blessed"])


def push(
    deu: str,
    practice_id: str,
    practice_kind: str,
    model: Input[Model],
    examples: Input[Dataset],
    recordings: Input[Dataset],
    evaluation: Input[Artifact],
    bundle_preview: Input[Artifact],
    learner_profile_json: str,
    player_profile_json: str,
    parent_version: int,
    registry_uri: str,
    mlflow_tracking_uri: str,
) -> int:
    """Pusher: publishes a blessed personality, with evaluate's preview bundled as ``preview/``,
    as the next version (fails, publishing nothing, otherwise)."""
    from pipelines.kfp_pipelines._steps import run_push

    return run_push(
        deu,
        practice_id,
        practice_kind,
        model.path,
        examples.path,
        recordings.path,
        evaluation.path,
        bundle_preview.path,
        learner_profile_json,
        player_profile_json,
        parent_version,
        registry_uri,
        mlflow_tracking_uri,
    )


def recall(
    deu: str,
    base_version: int,
    learner_profile_json: str,
    player_profile_json: str,
    registry_uri: str,
    mlflow_tracking_uri: str,
) -> NamedTuple("Recall", [("mode", str), ("parent_version", int), ("audio_uris", str), ("learner_profile_json", str)]):
    """tuning: which profile changed, and the previous practice's audio and profile."""
    from collections import namedtuple

    from pipelines.kfp_pipelines._steps import run_recall

    found = run_recall(deu, base_version, learner_profile_json, player_profile_json, registry_uri, mlflow_tracking_uri)
    Recall = namedtuple("Recall", ["mode", "parent_version", "audio_uris", "learner_profile_json"])
    return Recall(found["mode"], found["parent_version"], found["audio_uris"], found["learner_profile_json"])


def derive(
    deu: str,
    parent_version: int,
    player_profile_json: str,
    practice_id: str,
    registry_uri: str,
    mlflow_tracking_uri: str,
) -> int:
    """tuning without training: the parent's model with a new playerProfile, published at once."""
    from pipelines.kfp_pipelines._steps import derive_player

    return derive_player(deu, parent_version, player_profile_json, practice_id, registry_uri, mlflow_tracking_uri)


def feedback(
    deu: str,
    base_version: int,
    performance_uri: str,
    feedback_regions_json: str,
    feedback_method: str,
    finetune_steps: int,
    practice_id: str,
    registry_uri: str,
    mlflow_tracking_uri: str,
    report: Output[Artifact],
) -> int:
    """feedback: liked/disliked regions of a performance → playerProfile knobs optimised through
    the differentiable synthesizer, or the decoder fine-tuned (``feedback_method``: auto | knobs |
    finetune; ``finetune_steps`` 0 = the default budget) → a new version (see docs/practice.md)."""
    from pipelines.kfp_pipelines._steps import run_feedback

    return run_feedback(
        deu,
        base_version,
        performance_uri,
        feedback_regions_json,
        feedback_method,
        finetune_steps,
        practice_id,
        registry_uri,
        mlflow_tracking_uri,
        report.path,
    )


class Components(NamedTuple):
    ingest: object
    features: object
    train: object
    evaluate: object
    push: object
    recall: object
    derive: object
    feedback: object


def make_components(image: str | None = None) -> Components:
    """Every component on ``image`` (default: ``$AMADEUS_STUDIO_IMAGE``, else :data:`DEFAULT_IMAGE`)."""
    image = image or os.environ.get("AMADEUS_STUDIO_IMAGE") or DEFAULT_IMAGE
    wrap = dsl.component(base_image=image, install_kfp_package=False)
    return Components(*(wrap(f) for f in (ingest, features, train, evaluate, push, recall, derive, feedback)))
