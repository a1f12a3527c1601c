"""Training of personality models: :class:`Trainer` (tf.data, Adam with gradient
clipping, checkpoints, resume, wall-time budget, rich progress)."""

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
    "DeviceUnavailableError",
    "TrainResult",
    "Trainer",
    "TrainingDataError",
    "TrainingInterrupted",
    "TrainingProgress",
    "select_device",
]
