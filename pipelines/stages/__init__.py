"""The stages of a practice, TFX-shaped, as plain functions over artifact paths.

``ingest`` (ExampleGen) → ``features`` (Transform) → ``train`` (Trainer) →
``evaluate`` (Evaluator) → ``push`` (Pusher). Each takes paths and JSON-able
parameters (a learnerProfile may be a dict) and returns the path of what it
wrote, so the same functions run embedded (:mod:`pipelines.practice`) or
wrapped as Kubeflow Pipelines components. TensorFlow is imported only by
``train`` and ``evaluate`` when they run.
"""

from .evaluate import evaluate, resynthesize, spectral_loss
from .features import features
from .ingest import ingest
from .push import EvaluationGateError, push
from .train import train

__all__ = ["EvaluationGateError", "evaluate", "features", "ingest", "push", "resynthesize", "spectral_loss", "train"]
