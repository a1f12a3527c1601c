"""Training of personality models: :class:`Trainer` (tf.data, Adam with gradient
clipping, checkpoints, resume, wall-time budget, rich progress), minimising the spectral loss
or a :class:`TrainingObjective` (feedback's fine-tune)."""

from .preview import DEFAULT_BUDGET, DEFAULT_PREVIEW_EVERY, PreviewWriter, preview_budget, preview_interval
from .progress import TrainingProgress
from .trainer import (
    DeviceUnavailableError,
    Trainer,
    TrainingDataError,
    TrainingInterrupted,
    TrainingObjective,
    TrainResult,
    select_device,
)

__all__ = [
    "DEFAULT_BUDGET",
    "DEFAULT_PREVIEW_EVERY",
    "DeviceUnavailableError",
    "PreviewWriter",
    "TrainResult",
    "Trainer",
    "TrainingDataError",
    "TrainingInterrupted",
    "TrainingObjective",
    "TrainingProgress",
    "preview_budget",
    "preview_interval",
    "select_device",
]
