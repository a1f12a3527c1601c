"""The stages of a practice, TFX-shaped, as plain functions over artifact paths.

``ingest`` (ExampleGen) → ``features`` (Transform) → ``train`` (Trainer) →
``evaluate`` (Evaluator) → ``push`` (Pusher). Each takes paths and JSON-able
parameters (a learnerProfile may be a dict) and returns the path of what it
wrote, so the same functions run embedded (:mod:`pipelines.practice`) or
wrapped as Kubeflow Pipelines components. TensorFlow is imported only by
``train`` and ``evaluate`` when they run.

The order and wiring of the stages in each practice is declared once in
:mod:`pipelines.stages.graph`; both runners are derived from it.
"""

from .evaluate import evaluate, resynthesize, spectral_loss
from .features import features
from .ingest import ingest
from .push import PRACTICE_KINDS, EvaluationGateError, UnknownPracticeKindError, push
from .train import train

__all__ = [
    "PRACTICE_KINDS",
    "EvaluationGateError",
    "UnknownPracticeKindError",
    "evaluate",
    "features",
    "ingest",
    "push",
    "resynthesize",
    "spectral_loss",
    "train",
]
