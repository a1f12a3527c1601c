"""Feedback that fine-tunes: a short training of the judged version's decoder on the marked regions.

The liked regions are targets, the disliked ones are what to move away from, and the parent's
weights are an anchor (design and reasoning in docs/practice.md). The marked regions are cut
into windows (examples with a ``label``: +1 liked, −1 disliked) and
:class:`pipelines.training.Trainer` (progress, checkpoints, Ctrl-C resume) minimises
:class:`FeedbackObjective`::

    loss(w) = mean_liked l_i(w)  +  γ · mean_disliked max(0, m − l_j(w))  +  λ · |w − w0|² / |w0|²

``l`` is the per-example multi-scale spectral loss of the rendering against the performance's
own audio (the learnerProfile's FFT sizes and weights). The first term is ordinary DDSP
training on the liked sound. The second is a hinge: a disliked window only pushes while the
rendering is closer to it than ``m = (1 + margin) · `` the parent's mean loss on the disliked
windows, so the push is bounded (a negative weight on a spectral loss would diverge: the
loss of any audio against noise grows without end). The third is L2-SP (Li et al. 2018):
the squared distance to the parent's weights, relative to their size, a Gaussian prior centred
on the parent, so a few seconds of feedback move the personality and do not replace it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .performance import Performance

__all__ = ["FeedbackObjective", "FineTuneResult", "FineTuneSettings", "fine_tune", "region_examples"]


@dataclass(frozen=True)
class FineTuneSettings:
    """The fine-tune's budget and weights.

    Attributes:
        steps: optimiser steps. learning_rate: Adam's (decaying to a quarter at ``steps``).
        batch_size: windows per step (at most the number of windows).
        window_seconds: window length (shortened to the shortest region), s; windows overlap by half.
        push_weight: γ, the hinge term's weight. margin: the hinge's ``m`` over the parent's disliked loss.
        anchor_weight: λ, the L2-SP term's weight.
        checkpoint_every: steps between checkpoints.
    """

    steps: int = 150
    learning_rate: float = 1e-3
    batch_size: int = 8
    window_seconds: float = 1.0
    push_weight: float = 1.0
    margin: float = 0.25
    anchor_weight: float = 30.0
    checkpoint_every: int = 25


@dataclass(frozen=True)
class FineTuneResult:
    """What the fine-tune did.

    Attributes:
        export_dir: the fine-tuned model's bundle files (``decoder.npz``, ``decoder.tflite``, ...).
        losses: mean spectral loss on the liked and the disliked windows, before and after
            (``liked_before``, ``liked_after``, ``disliked_before``, ``disliked_after``).
        margin_loss: the hinge's ``m``. drift: ``|w − w0| / |w0|`` at the end.
        training: the Trainer's summary (steps, losses, seconds). settings: what it ran with.
        windows: liked and disliked window counts.
    """

    export_dir: Path
    losses: dict[str, float]
    margin_loss: float
    drift: float
    training: dict
    settings: FineTuneSettings
    windows: dict[str, int] = field(default_factory=dict)

    def record_params(self) -> dict[str, str]:
        import json

        return {
            "finetune": json.dumps(
                {
                    "settings": asdict(self.settings),
                    "losses": {k: round(v, 4) for k, v in self.losses.items()},
                    "margin_loss": round(self.margin_loss, 4),
                    "drift": round(self.drift, 5),
                    "windows": self.windows,
                    "steps_run": self.training.get("steps_run"),
                },
                sort_keys=True,
            )
        }


def region_examples(performance: Performance, window_seconds: float) -> dict[str, np.ndarray]:
    """The marked regions as training windows: ``audio [E, W · hop]``, ``f0_hz``/``loudness_db [E, W]``
    and ``label [E]`` (+1 liked, −1 disliked); ``W`` = ``window_seconds`` of frames, at most the
    shortest region, windows every ``W/2`` frames (the last one flush with the region's end)."""
    hop, fr = performance.hop, performance.frame_rate
    width = min(int(round(window_seconds * fr)), min(b - a for a, b in performance.spans))
    rows: dict[str, list] = {"audio": [], "f0_hz": [], "loudness_db": [], "label": []}
    for region, (a, b) in zip(performance.regions, performance.spans, strict=True):
        starts = sorted(set(range(a, b - width + 1, max(width // 2, 1))) | {b - width})
        for s in starts:
            rows["audio"].append(performance.audio[s * hop : (s + width) * hop])
            rows["f0_hz"].append(performance.f0_hz[s : s + width])
            rows["loudness_db"].append(performance.loudness_db[s : s + width])
            rows["label"].append(1.0 if region.label == "good" else -1.0)
    return {k: np.asarray(v, np.float32) for k, v in rows.items()}


class FeedbackObjective:
    """The fine-tune's loss (module docstring) as a :class:`pipelines.training.TrainingObjective`.

    Args:
        learner_profile: the resolved learnerProfile (loss FFT sizes and weights).
        anchor: the parent's trainable weights, in the model's ``trainable_variables`` order.
        margin_loss: ``m``, the hinge's margin (spectral-loss units).
        push_weight, anchor_weight: γ, λ.
    """

    fields = ("label",)

    def __init__(
        self, learner_profile, anchor: list[np.ndarray], margin_loss: float, push_weight: float, anchor_weight: float
    ):
        import tensorflow as tf

        from pipelines.ddsp import DEFAULT_FFT_SIZES

        self.fft_sizes = tuple(learner_profile.fft_sizes) or DEFAULT_FFT_SIZES
        self.mag_weight, self.logmag_weight = float(learner_profile.mag_weight), float(learner_profile.logmag_weight)
        self.anchor = [tf.constant(w) for w in anchor]
        self.anchor_norm = float(sum(np.sum(np.square(w)) for w in anchor)) or 1.0
        self.margin_loss, self.push_weight, self.anchor_weight = (
            float(margin_loss),
            float(push_weight),
            float(anchor_weight),
        )

    def per_example(self, model, batch, noise_seed):
        """The per-example spectral loss ``[B]`` of ``model``'s rendering of the batch."""
        from pipelines.ddsp import per_example_spectral_loss

        out = model(
            {"f0_hz": batch["f0_hz"], "loudness_db": batch["loudness_db"]}, training=True, noise_seed=noise_seed
        )
        return per_example_spectral_loss(
            batch["audio"], out["audio"], self.fft_sizes, self.mag_weight, self.logmag_weight
        )

    def drift(self, model):
        """``|w − w0|² / |w0|²`` over the trainable weights (a scalar tensor)."""
        import tensorflow as tf

        squares = [
            tf.reduce_sum(tf.square(v - w0)) for v, w0 in zip(model.trainable_variables, self.anchor, strict=True)
        ]
        return tf.add_n(squares) / self.anchor_norm

    def __call__(self, model, batch, noise_seed):
        import tensorflow as tf

        losses = self.per_example(model, batch, noise_seed)
        liked = tf.cast(batch["label"] > 0, tf.float32)
        disliked = 1.0 - liked
        pull = tf.reduce_sum(liked * losses) / tf.maximum(tf.reduce_sum(liked), 1.0)
        push = tf.reduce_sum(disliked * tf.nn.relu(self.margin_loss - losses)) / tf.maximum(
            tf.reduce_sum(disliked), 1.0
        )
        return pull + self.push_weight * push + self.anchor_weight * self.drift(model)


def _mean_losses(objective: FeedbackObjective, model, examples: dict[str, np.ndarray]) -> dict[str, float]:
    import tensorflow as tf

    batch = {k: tf.constant(v) for k, v in examples.items()}
    losses = objective.per_example(model, batch, tf.constant([7, 11], tf.int32)).numpy()
    liked = examples["label"] > 0
    return {
        "liked": float(losses[liked].mean()),
        "disliked": float(losses[~liked].mean()) if (~liked).any() else float("nan"),
    }


def fine_tune(
    parent,
    performance: Performance,
    workdir: str | Path,
    settings: FineTuneSettings | None = None,
    *,
    progress: bool = False,
    on_step: Callable[[int, float], None] | None = None,
) -> FineTuneResult:
    """Fine-tune ``parent``'s decoder (a Bundle) on the marked regions of ``performance``; export it.

    Args:
        workdir: checkpoints (``<workdir>/checkpoints``: a re-run resumes there) and the export
            (``<workdir>/export``).
        settings: :class:`FineTuneSettings` (default budget).
        progress: the Trainer's rich progress bar. on_step: ``on_step(step, loss)`` after each step.

    Raises:
        pipelines.training.TrainingInterrupted: Ctrl-C (a checkpoint was saved; the same call resumes).
    """
    from instrument_agent.profiles import resolve_learner_profile
    from instrument_agent.proto import personality_pb2
    from pipelines import export as export_module
    from pipelines import training

    settings = settings or FineTuneSettings()
    workdir = Path(workdir)
    examples = region_examples(performance, settings.window_seconds)
    count = len(examples["label"])
    profile = personality_pb2.LearnerProfile()
    profile.CopyFrom(performance.learner)
    profile.steps = int(settings.steps)
    profile.learning_rate = float(settings.learning_rate)
    profile.batch_size = int(min(settings.batch_size, count))
    profile.checkpoint_every = int(settings.checkpoint_every)
    profile.example_seconds = examples["f0_hz"].shape[1] / performance.frame_rate
    profile.max_train_seconds = 0
    profile = resolve_learner_profile(profile)

    trainer = training.Trainer(profile, workdir / "checkpoints", progress=progress)
    trainer.warm_start(parent.path)  # a checkpoint of an interrupted run, restored by fit, wins over it
    anchor = [np.array(v.numpy()) for v in trainer.model.trainable_variables]
    measure = FeedbackObjective(profile, anchor, 0.0, settings.push_weight, settings.anchor_weight)
    before = _mean_losses(measure, trainer.model, examples)
    has_disliked = bool(np.any(examples["label"] < 0))
    margin = (1.0 + settings.margin) * before["disliked"] if has_disliked else 0.0
    objective = FeedbackObjective(profile, anchor, margin, settings.push_weight, settings.anchor_weight)
    trainer.objective = objective
    result = trainer.fit(examples, on_step=on_step)
    after = _mean_losses(objective, trainer.model, examples)
    drift = float(np.sqrt(float(objective.drift(trainer.model))))
    export_dir = workdir / "export"
    export_module.export(trainer.model, resolve_learner_profile(performance.learner), export_dir)
    return FineTuneResult(
        export_dir=export_dir,
        losses={
            "liked_before": before["liked"],
            "liked_after": after["liked"],
            "disliked_before": before["disliked"],
            "disliked_after": after["disliked"],
        },
        margin_loss=objective.margin_loss,
        drift=drift,
        training=result.summary(),
        settings=settings,
        windows={"liked": int(np.sum(examples["label"] > 0)), "disliked": int(np.sum(examples["label"] < 0))},
    )
