"""Stage 3, ``train`` (TFX's Trainer): examples → a trained personality, exported.

Builds the Keras personality model from the learnerProfile
(:mod:`pipelines.ddsp`), trains it with :class:`pipelines.training.Trainer`
(tf.data, checkpoints every ``checkpoint_every`` steps, resumable), then
exports the bundle files with :func:`pipelines.export.export`.

Output directory (``<workdir>/train``)::

    checkpoints/   the trainer's checkpoints (a re-run resumes from the newest)
    export/        saved_model/, decoder.tflite, decoder.npz, reverb_ir.npy
    train.json     steps done, final loss, seconds
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pipelines.data import Examples

from ._artifacts import learner_profile as _resolve
from ._artifacts import write_json

__all__ = ["train"]


def train(
    features_dir: str | Path,
    learner_profile,
    workdir: str | Path,
    *,
    parent_export_dir: str | Path | None = None,
    progress: bool = True,
    on_step: Callable[[int, float], None] | None = None,
) -> str:
    """Train (or resume training) and export.

    Args:
        features_dir: the features stage's output (``train.npz``).
        learner_profile: message or dict (model size, steps, batch, lr, loss, device...).
        workdir: the practice's work directory.
        parent_export_dir: an earlier version's bundle to start from (continuing a deu).
        progress: show the trainer's progress bar.
        on_step: called as ``on_step(step, loss)`` after every optimiser step
            (how a studio follows training).

    Returns:
        The export directory (str).
    """
    from pipelines import export as export_module
    from pipelines import training

    profile = _resolve(learner_profile)
    out = Path(workdir) / "train"
    examples = Examples.load(Path(features_dir) / "train.npz")
    trainer = training.Trainer(profile, out / "checkpoints", progress=progress)
    if parent_export_dir is not None:
        trainer.warm_start(parent_export_dir)
    result = trainer.fit(
        {"audio": examples.audio, "f0_hz": examples.f0_hz, "loudness_db": examples.loudness_db}, on_step=on_step
    )
    export_dir = out / "export"
    export_module.export(trainer.model, profile, export_dir)
    write_json(out / "train.json", result.summary())
    return str(export_dir)
