"""Training of personality models: :class:`Trainer` (tf.data, Adam with gradient
clipping, checkpoints, resume, wall-time budget, rich progress), minimising the spectral loss
or a :class:`TrainingObjective` (feedback's fine-tune)."""

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
    "DeviceUnavailableError",
    "TrainResult",
    "Trainer",
    "TrainingDataError",
    "TrainingInterrupted",
    "TrainingObjective",
    "TrainingProgress",
    "select_device",
]
