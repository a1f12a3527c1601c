"""Training of personality models: :class:`Trainer` (tf.data, Adam with gradient
clipping, checkpoints, resume, wall-time budget, rich progress)."""

from .progress import TrainingProgress
from .trainer import (
    DeviceUnavailableError,
    TrainingDataError,
    TrainingInterrupted,
    TrainResult,
    Trainer,
    select_device,
)

__all__ = [
    "DeviceUnavailableError",
    "TrainResult",
    "Trainer",
    "TrainingDataError",
    "TrainingInterrupted",
    "TrainingProgress",
    "select_device",
]
