"""Training of personality models: :class:`Trainer` (tf.data, Adam with gradient
clipping, checkpoints, resume, wall-time budget, rich progress)."""

from .preview import DEFAULT_BUDGET, DEFAULT_PREVIEW_EVERY, PreviewWriter, preview_budget, preview_interval
from .progress import TrainingProgress
from .trainer import (
    DeviceUnavailableError,
    Trainer,
    TrainingDataError,
    TrainingInterrupted,
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
    "TrainingProgress",
    "preview_budget",
    "preview_interval",
    "select_device",
]
