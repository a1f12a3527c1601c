"""A control frame's step done ahead, in the blocks before its boundary.

With blocks shorter than a control frame, the boundary's work (the decoder
step of every sounding voice, then amplitudes and noise filters, then filter
spectra) would land in the one block that crosses it. Instead the step of all
sounding voices, batched exactly as at the boundary so the numbers are the
same, runs in stages, one or more per block. The boundary uses the result only
if no voice started or ended and no voice's state, inputs or tilt changed
since (the voices' stamps); else it computes the step itself, as it would
without this.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from instrument_agent.decoder import STEP_STAGES, FrameSteps

__all__ = ["JOB_STAGES", "FrameJob", "Speculation"]

JOB_STAGES = STEP_STAGES + 3  # encoding, the decoder's stages, then controls, then filter spectra


@dataclass(eq=False)
class FrameJob:
    """The step of voices ``idx`` at control frame ``frame``, as far as it got."""

    frame: int
    idx: np.ndarray  # [V] slots stepped
    stamps: np.ndarray  # [V] the voices' stamps when the job started
    attempts: int  # jobs started for this frame
    stage: int = 0  # stages done, of JOB_STAGES
    enc: np.ndarray | None = None  # [1, V, E] decoder inputs
    f0: np.ndarray | None = None  # [1, V] Hz
    encoded: tuple | None = None  # (slots, rows) encoded for the step, stored when it is used
    steps: FrameSteps | None = None  # the decoder's paused step
    controls: np.ndarray | None = None  # [1, V, C]
    state: np.ndarray | None = None  # [V, G] the GRU state after the frame
    amps: np.ndarray | None = None  # [1, V, H]
    irs: np.ndarray | None = None  # [1, V, L]
    n_fft: int | None = None  # FFT size of ``spectra`` (0: none computed)
    spectra: np.ndarray | None = None  # [1, V, n_fft/2+1]

    def matches(self, frame: int, idx: np.ndarray, stamps: np.ndarray) -> bool:
        """Whether this job is the step of ``idx`` at ``frame`` with nothing changed since it started."""
        return self.frame == frame and np.array_equal(self.idx, idx) and np.array_equal(self.stamps, stamps)


class Speculation:
    """When to start a :class:`FrameJob`, how many stages to run per block, and whether a boundary may use it."""

    def __init__(self) -> None:
        self.job: FrameJob | None = None
        self.voided = -1  # the last frame whose job could not be used

    def due(self, frame: int, idx: np.ndarray, stamps: np.ndarray, blocks_left: int) -> FrameJob | None:
        """The job to advance in this block (started now if due), or None.

        A job starts once the frame's inputs are frozen (the caller's check), once per frame,
        and not in the frame after one whose job was voided (a voice starting or ending in
        every frame would void every job).
        """
        job = self.job
        if job is not None and job.matches(frame, idx, stamps):
            return job
        attempts = job.attempts + 1 if job is not None and job.frame == frame else 1
        if attempts > 1 or self.voided == frame - 1:
            return None
        self.job = FrameJob(frame=frame, idx=idx, stamps=stamps.copy(), attempts=attempts)
        return self.job

    @staticmethod
    def stages_now(job: FrameJob, blocks_left: int) -> int:
        """Stages to run in this block so the job is done by the boundary."""
        stages = JOB_STAGES - job.stage
        if job.stage == 0 and blocks_left > 1:
            return 1  # encoding is about half the step: a block of its own
        return min(stages, -(-stages // blocks_left))

    def take(self, frame: int, idx: np.ndarray, stamps: np.ndarray, frames: int) -> FrameJob | None:
        """At a boundary stepping ``frames`` frames from ``frame``: the job if it is usable (it is
        consumed either way; an unusable one marks the frame voided)."""
        job, self.job = self.job, None
        if job is None:
            return None
        if frames == 1 and job.matches(frame, idx, stamps):
            return job
        self.voided = frame
        return None

    def reset(self) -> None:
        self.job = None
        self.voided = -1
