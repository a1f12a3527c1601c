"""Train a personality model on examples: tf.data, Adam, checkpoints, resume, progress.

Checkpoints (``tf.train.CheckpointManager`` in the work directory) hold the
model, the optimizer, the step counter and the noise generator, and the
batch order is a pure function of ``(seed, step)``: a run that is
interrupted (Ctrl-C) and started again with the same command continues at
the saved step with the same optimizer state and the same data order.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import keras
import numpy as np
import tensorflow as tf

from instrument_agent import interrupts
from pipelines.ddsp import PersonalityModel, SpectralLoss, build_model, resolve_profile

from .preview import preview_interval
from .progress import TrainingProgress

__all__ = [
    "DeviceUnavailableError",
    "TrainResult",
    "Trainer",
    "TrainingObjective",
    "TrainingDataError",
    "TrainingInterrupted",
    "select_device",
]

_CLIP_NORM = 3.0
_XLA_MAX_CPU_FRAMES = 400  # XLA helps the CPU for short sequences only (measured, see Trainer)
_LR_FINAL_FRACTION = 0.25  # the learning rate decays exponentially to this fraction at `steps`


class TrainingObjective(Protocol):
    """What a training step minimises, when it is not the plain spectral loss.

    ``fields`` names the per-example scalars (``[E]`` float32 arrays in the examples, e.g. a
    label or a weight) it reads besides ``audio``, ``f0_hz`` and ``loudness_db``; the batch it
    gets holds all of them (``audio [B, n]``, ``f0_hz``/``loudness_db [B, T]``, each field ``[B]``).
    It is traced into the step's ``tf.function``: TensorFlow ops only.
    """

    fields: tuple[str, ...]

    def __call__(self, model: PersonalityModel, batch: Mapping[str, tf.Tensor], noise_seed: tf.Tensor) -> tf.Tensor:
        """The scalar loss of ``batch`` under ``model`` (rendering with ``noise_seed``)."""
        ...


class TrainingDataError(ValueError):
    """The training examples are malformed (names the field and the problem)."""


class TrainingInterrupted(RuntimeError):
    """Training was interrupted; a checkpoint was saved and the same command resumes it."""

    def __init__(self, step: int, checkpoint_dir: Path):
        super().__init__(
            f"training interrupted at step {step}; checkpoint saved in {checkpoint_dir}; resume with the same command"
        )
        self.step = step
        self.checkpoint_dir = checkpoint_dir


class DeviceUnavailableError(RuntimeError):
    """The learnerProfile asks for a device this machine does not have."""


@dataclass
class TrainResult:
    """What :meth:`Trainer.fit` did.

    Attributes:
        model: the trained :class:`~pipelines.ddsp.PersonalityModel`.
        history: loss of every step run in this call (float, in order).
        start_step: optimizer steps done before this call (from a checkpoint).
        step: optimizer steps done in all (the checkpointed counter).
        seconds: wall time of this call, s.
        stopped: ``"steps"`` (reached the target), ``"time_budget"`` (``max_train_seconds``).
    """

    model: PersonalityModel
    history: list[float] = field(default_factory=list)
    start_step: int = 0
    step: int = 0
    seconds: float = 0.0
    stopped: str = "steps"

    @property
    def final_loss(self) -> float | None:
        """Mean loss of the last (up to) 10 steps of this call, or None when no step ran."""
        if not self.history:
            return None
        return float(np.mean(self.history[-10:]))

    def summary(self) -> dict:
        """JSON-able summary (no model): steps, losses, seconds, why it stopped."""
        steps_run = self.step - self.start_step
        return {
            "step": self.step,
            "start_step": self.start_step,
            "steps_run": steps_run,
            "final_loss": self.final_loss,
            "first_loss": self.history[0] if self.history else None,
            "seconds": self.seconds,
            "steps_per_second": steps_run / self.seconds if self.seconds > 0 else None,
            "stopped": self.stopped,
        }


def select_device(device: str) -> str:
    """The TensorFlow device string for a learnerProfile ``device``.

    ``"auto"``: the first GPU when there is one, else the CPU; ``"cpu"``;
    ``"gpu"`` raises :class:`DeviceUnavailableError` when no GPU is visible.
    """
    gpus = tf.config.list_physical_devices("GPU")
    if device == "cpu":
        return "/CPU:0"
    if device == "gpu" and not gpus:
        raise DeviceUnavailableError("learnerProfile.device='gpu' but TensorFlow sees no GPU on this machine")
    if device not in ("auto", "gpu"):
        raise DeviceUnavailableError(f"learnerProfile.device={device!r}: expected 'auto', 'cpu' or 'gpu'")
    return "/GPU:0" if gpus else "/CPU:0"


def _as_examples(examples: Mapping[str, np.ndarray], hop: int, fields: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
    out = {}
    for name in ("audio", "f0_hz", "loudness_db"):
        if name not in examples:
            raise TrainingDataError(f"examples: missing field {name!r} (need audio, f0_hz, loudness_db)")
        value = np.asarray(examples[name], dtype=np.float32)
        if value.ndim != 2:
            raise TrainingDataError(
                f"examples[{name!r}]: expected a 2-D array [examples, length], got shape {value.shape}"
            )
        if not np.all(np.isfinite(value)):
            raise TrainingDataError(f"examples[{name!r}]: contains NaN or infinite values")
        out[name] = value
    count, frames = out["f0_hz"].shape
    if count == 0 or frames == 0:
        raise TrainingDataError("examples: no examples (0 rows or 0 frames)")
    if out["loudness_db"].shape != (count, frames):
        raise TrainingDataError(
            f"examples['loudness_db']: shape {out['loudness_db'].shape} differs from f0_hz {(count, frames)}"
        )
    if out["audio"].shape != (count, frames * hop):
        raise TrainingDataError(
            f"examples['audio']: shape {out['audio'].shape}, expected {(count, frames * hop)} "
            f"({frames} frames × {hop} samples per frame)"
        )
    for name in fields:
        if name not in examples:
            raise TrainingDataError(f"examples: missing field {name!r}, which the training objective reads")
        value = np.asarray(examples[name], dtype=np.float32)
        if value.shape != (count,) or not np.all(np.isfinite(value)):
            raise TrainingDataError(
                f"examples[{name!r}]: expected {count} finite values (one per example), got shape {value.shape}"
            )
        out[name] = value
    return out


class Trainer:
    """Trains a :class:`~pipelines.ddsp.PersonalityModel` for a learnerProfile.

    Args:
        learner_profile: ``amadeus.v1.LearnerProfile`` (unset fields take the defaults):
            model size, ``batch_size``, ``learning_rate``, ``steps``, ``checkpoint_every``,
            loss FFT sizes and weights, ``seed``, ``device``, ``max_train_seconds``.
        workdir: checkpoint directory (created; an existing checkpoint is resumed).
        progress: show a rich progress bar (step, loss, steps/s).
        jit_compile: compile the loss-and-gradient step with XLA. ``None``: on with a
            GPU; on the CPU only for examples of at most 400 frames, where it measured
            1.1-1.7x faster (default profile), while for the paper's 1000-frame
            examples it measured 0.66x (tests/benchmarks/bench_training_throughput.py).
        objective: what a step minimises (:class:`TrainingObjective`); default the
            learnerProfile's multi-scale spectral loss of the rendering against ``audio``.
            Settable as :attr:`objective` until the first step (e.g. after :meth:`warm_start`).
    """

    def __init__(
        self,
        learner_profile=None,
        workdir: str | Path = "checkpoints",
        *,
        progress: bool = True,
        jit_compile: bool | None = None,
        objective: TrainingObjective | None = None,
    ):
        self.profile = resolve_profile(learner_profile)
        self.objective = objective
        self.workdir = Path(workdir)
        self.progress = progress
        self.device = select_device(self.profile.device)
        if jit_compile is None:
            frames = self.profile.example_seconds * self.profile.frame_rate
            jit_compile = "GPU" in self.device or frames <= _XLA_MAX_CPU_FRAMES
        self.jit_compile = bool(jit_compile)
        with tf.device(self.device):
            self.model = build_model(self.profile)
            steps = max(int(self.profile.steps), 1)
            schedule = keras.optimizers.schedules.ExponentialDecay(
                float(self.profile.learning_rate), decay_steps=steps, decay_rate=_LR_FINAL_FRACTION
            )
            self.optimizer = keras.optimizers.Adam(learning_rate=schedule, global_clipnorm=_CLIP_NORM)
            self.optimizer.build(self.model.trainable_variables)
            self._step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
            self._rng = tf.random.Generator.from_seed(int(self.profile.seed) + 1)
        self.loss_fn = SpectralLoss.from_profile(self.profile)
        self._checkpoint = tf.train.Checkpoint(
            model=self.model, optimizer=self.optimizer, step=self._step, rng=self._rng
        )
        self._manager: tf.train.CheckpointManager | None = None
        self._grad_fn = None
        self._apply_fn = None

    @property
    def step(self) -> int:
        """Optimizer steps done (restored from the newest checkpoint by :meth:`restore`)."""
        return int(self._step.numpy())

    @property
    def checkpoint_dir(self) -> Path:
        return self.workdir

    def _checkpoint_manager(self) -> tf.train.CheckpointManager:
        if self._manager is None:
            self.workdir.mkdir(parents=True, exist_ok=True)
            self._manager = tf.train.CheckpointManager(self._checkpoint, str(self.workdir), max_to_keep=2)
        return self._manager

    def restore(self) -> int:
        """Restore the newest checkpoint in the work directory, if any; returns the step."""
        manager = self._checkpoint_manager()
        if manager.latest_checkpoint:
            self._checkpoint.restore(manager.latest_checkpoint).assert_existing_objects_matched()
        return self.step

    def save(self) -> str:
        """Write a checkpoint at the current step; returns its path."""
        return self._checkpoint_manager().save(checkpoint_number=self.step)

    def warm_start(self, export_dir: str | Path) -> None:
        """Start from an earlier personality's exported weights (``decoder.npz``, ``reverb_ir.npy``).

        A checkpoint in the work directory still wins (it is newer work).
        Raises :class:`~pipelines.ddsp.DecoderWeightsError` when the earlier
        personality's sizes differ from this learnerProfile's.
        """
        export_dir = Path(export_dir)
        path = export_dir / "decoder.npz"
        try:
            with np.load(path, allow_pickle=False) as data:
                weights = {key: data[key] for key in data.files}
        except (OSError, ValueError) as exc:
            raise TrainingDataError(f"{path}: cannot read the earlier personality's decoder ({exc})") from None
        self.model.decoder.set_weights_dict(weights, source=str(path))
        ir_path = export_dir / "reverb_ir.npy"
        if self.model.reverb is not None and ir_path.exists():
            ir = np.load(ir_path, allow_pickle=False).astype(np.float32)
            taps = self.model.reverb.n_taps
            fitted = np.zeros(taps, np.float32)
            fitted[: min(taps, ir.size)] = ir[:taps]
            self.model.reverb.ir.assign(fitted)

    # -- the step ------------------------------------------------------------------------

    def _build_step(self) -> None:
        model, loss_fn, variables = self.model, self.loss_fn, self.model.trainable_variables
        objective = self.objective

        def grads(batch, seed):
            with tf.GradientTape() as tape:
                if objective is not None:
                    loss = objective(model, batch, seed)
                else:
                    inputs = {"f0_hz": batch["f0_hz"], "loudness_db": batch["loudness_db"]}
                    loss = loss_fn(batch["audio"], model(inputs, training=True, noise_seed=seed)["audio"])
            return loss, tape.gradient(loss, variables)

        def apply(gradients):
            self.optimizer.apply_gradients(zip(gradients, variables, strict=True))
            self._step.assign_add(1)

        self._grad_fn = tf.function(grads, jit_compile=self.jit_compile, reduce_retracing=True)
        self._apply_fn = tf.function(apply)

    def train_step(self, audio, f0_hz, loudness_db, **fields) -> float:
        """One optimizer step on a batch ([B, n], [B, T], [B, T]; the objective's fields [B]); returns the loss."""
        if self._grad_fn is None:
            self._build_step()
        seed = self._rng.make_seeds(1)[:, 0]
        batch = {"audio": audio, "f0_hz": f0_hz, "loudness_db": loudness_db, **fields}
        loss, gradients = self._grad_fn(batch, seed)
        self._apply_fn(gradients)
        return float(loss)

    def _dataset(self, data: dict[str, np.ndarray], start: int, stop: int) -> tf.data.Dataset:
        """Batches for steps ``start..stop-1``; step ``s``'s batch depends only on (seed, s)."""
        count = data["f0_hz"].shape[0]
        batch = int(self.profile.batch_size)
        epochs = -(-(stop * batch) // count) + 1
        rng = np.random.default_rng(int(self.profile.seed))
        order = np.concatenate([rng.permutation(count) for _ in range(epochs)])[: stop * batch]
        table = order.reshape(stop, batch)[start:stop]
        tensors = {name: tf.constant(value) for name, value in data.items()}

        def gather(indices):
            return {name: tf.gather(tensor, indices) for name, tensor in tensors.items()}

        return tf.data.Dataset.from_tensor_slices(table).map(gather, num_parallel_calls=tf.data.AUTOTUNE).prefetch(2)

    def fit(
        self,
        examples: Mapping[str, np.ndarray],
        *,
        steps: int | None = None,
        on_step: Callable[[int, float], None] | None = None,
        on_preview: Callable[[int, float, PersonalityModel], object] | None = None,
    ) -> TrainResult:
        """Train until ``steps`` (default: the learnerProfile's) or ``max_train_seconds``.

        Args:
            examples: ``audio [E, T * hop]`` float32 at the profile's sample rate,
                ``f0_hz [E, T]`` Hz, ``loudness_db [E, T]`` dB (and the objective's fields, ``[E]``).
            steps: total optimizer steps to reach (counting checkpointed ones).
            on_step: called as ``on_step(step, loss)`` after every step.
            on_preview: called as ``on_preview(step, loss, model)`` every
                ``learnerProfile.preview_every`` steps (0: the default, -1: never), e.g. a
                :class:`~pipelines.training.PreviewWriter`.

        Returns:
            :class:`TrainResult` (the model is also :attr:`model`).

        Raises:
            TrainingDataError: malformed examples.
            TrainingInterrupted: on Ctrl-C, after saving a checkpoint.
        """
        data = _as_examples(examples, self.model.hop, tuple(self.objective.fields) if self.objective else ())
        target = int(self.profile.steps if steps is None else steps)
        start = self.restore()
        result = TrainResult(model=self.model, start_step=start, step=start)
        budget = float(self.profile.max_train_seconds) or float("inf")
        every = max(int(self.profile.checkpoint_every), 1)
        preview_every = preview_interval(self.profile) if on_preview is not None else 0
        began = time.monotonic()
        if start >= target:
            return result
        progress = TrainingProgress(total=target, start=start, enabled=self.progress)
        with tf.device(self.device), progress:
            try:
                for batch in self._dataset(data, start, target):
                    loss = self.train_step(**batch)
                    step = self.step
                    result.history.append(loss)
                    result.step = step
                    progress.update(step, loss)
                    if step % every == 0:
                        self.save()
                    if on_step is not None:
                        on_step(step, loss)
                    interrupts.check()  # a Ctrl-C that TensorFlow or a callback swallowed
                    if preview_every and on_preview is not None and step % preview_every == 0:
                        on_preview(step, loss, self.model)
                    if time.monotonic() - began >= budget:
                        result.stopped = "time_budget"
                        break
            except KeyboardInterrupt:
                with contextlib.suppress(Exception):
                    progress.stop()
                self.save()
                raise TrainingInterrupted(self.step, self.workdir) from None
        if self._checkpoint_manager().latest_checkpoint != str(self.workdir / f"ckpt-{self.step}"):
            self.save()
        result.seconds = time.monotonic() - began
        return result
