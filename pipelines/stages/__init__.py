"""The stages of a practice, TFX-shaped, as plain functions over artifact paths and local stores.

Imitation: ``ingest`` (ExampleGen) → ``features`` (Transform) → ``train`` (Trainer) →
``evaluate`` (Evaluator) → ``push`` (Pusher). Tuning adds ``recall`` (what changed, what the
parent practised on) and ``derive`` (a playerProfile change without training); feedback is
one step, ``feedback`` (knobs judged from marked regions of a performance). Each takes paths,
JSON-able parameters (a learnerProfile may be a dict) or a local store holding the parent,
and returns what it wrote, so the same functions run embedded (:mod:`pipelines.practice`)
or wrapped as Kubeflow Pipelines components (:mod:`pipelines.kfp_pipelines`). TensorFlow is
imported only by ``train``, ``evaluate`` and ``feedback`` when they run.

The order and wiring of the stages in each practice is declared once in
:mod:`pipelines.stages.graph`; both runners are derived from it.
"""

from .derive import derive, player_profile_over
from .evaluate import evaluate, resynthesize, spectral_loss
from .features import features
from .feedback import FeedbackResult, feedback
from .ingest import ingest
from .push import PRACTICE_KINDS, EvaluationGateError, MissingPreviewError, UnknownPracticeKindError, push
from .range_split import (
    BANDS,
    OUT_OF_RANGE,
    BandScore,
    RangeSplit,
    Resynthesizer,
    personality_resynthesizer,
    range_examples,
    range_test_notes,
    render_range_test,
    score_range,
)
from .recall import Recalled, recall, recorded_audio
from .train import train

__all__ = [
    "BANDS",
    "OUT_OF_RANGE",
    "BandScore",
    "RangeSplit",
    "Resynthesizer",
    "personality_resynthesizer",
    "range_examples",
    "range_test_notes",
    "render_range_test",
    "score_range",
    "PRACTICE_KINDS",
    "EvaluationGateError",
    "MissingPreviewError",
    "FeedbackResult",
    "Recalled",
    "UnknownPracticeKindError",
    "derive",
    "evaluate",
    "feedback",
    "features",
    "ingest",
    "player_profile_over",
    "push",
    "recall",
    "recorded_audio",
    "resynthesize",
    "spectral_loss",
    "train",
]
