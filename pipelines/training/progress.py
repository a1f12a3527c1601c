"""A rich progress bar for training: step, loss, steps/s."""

from __future__ import annotations

import time

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

__all__ = ["TrainingProgress"]


class TrainingProgress:
    """Context manager showing ``step/total``, the loss and steps/s (a no-op when disabled).

    Args:
        total: target step.
        start: step the run starts at (a resumed run starts past 0).
        enabled: draw the bar.
    """

    def __init__(self, total: int, start: int = 0, enabled: bool = True):
        self.enabled = enabled
        self._start_step = start
        self._began = time.monotonic()
        self._progress = (
            Progress(
                TextColumn("[bold]training"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("loss {task.fields[loss]}"),
                TextColumn("{task.fields[rate]} steps/s"),
                TimeRemainingColumn(),
            )
            if enabled
            else None
        )
        self._task = None
        self._total = total

    def __enter__(self) -> TrainingProgress:
        if self._progress is not None:
            self._progress.start()
            self._task = self._progress.add_task(
                "train", total=self._total, completed=self._start_step, loss="-", rate="-"
            )
        self._began = time.monotonic()
        return self

    def update(self, step: int, loss: float) -> None:
        """Show ``step`` done with ``loss``."""
        if self._progress is None:
            return
        elapsed = time.monotonic() - self._began
        rate = (step - self._start_step) / elapsed if elapsed > 0 else 0.0
        self._progress.update(self._task, completed=step, loss=f"{loss:.4f}", rate=f"{rate:.2f}")

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()

    def __exit__(self, *exc) -> None:
        self.stop()
