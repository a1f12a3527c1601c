"""Stage 3, ``train`` (TFX's Trainer): examples → a trained personality, exported.

Builds the Keras personality model from the learnerProfile
(:mod:`pipelines.ddsp`), trains it with :class:`pipelines.training.Trainer`
(tf.data, checkpoints every ``checkpoint_every`` steps, resumable), then
exports the bundle files with :func:`pipelines.export.export`.

Output directory (``<workdir>/train``)::

    checkpoints/   the trainer's checkpoints (a re-run resumes from the newest)
    (<workdir>/preview/: every ``preview_every`` steps the personality-in-training, a preview
     the agent can play while the practice runs; not a version, see pipelines.training.preview)
    export/        saved_model/, decoder.tflite, decoder.npz, reverb_ir.npy
    train.json     steps done, final loss, seconds
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from instrument_agent.personality import PREVIEW_DIR
from instrument_agent.proto import personality_pb2
from pipelines.data import Examples

from ._artifacts import learner_profile as _resolve
from ._artifacts import read_json, write_json

__all__ = ["PRIOR_RECORD", "train"]

PRIOR_RECORD = ".prior.json"
"""In the export directory: the prior a new deu started from (:meth:`pipelines.priors.PriorChoice.to_dict`)."""


def _start_from_prior(trainer, profile, features_dir: Path, progress: bool):
    """Warm-start ``trainer`` from the prior ``profile.prior`` names (auto: measured); returns the choice.

    A checkpoint in the work directory (a resumed run) restores over these weights later, as usual.
    """
    from rich.console import Console
    from rich.table import Table

    from pipelines.priors import choose_prior

    choice = choose_prior(profile, features_dir)
    if progress and (choice.losses or choice.prior is not None):
        console = Console(stderr=True)
        if choice.losses:
            table = Table(title="prior auto: spectral loss on the ama's audio (lowest wins)")
            table.add_column("prior")
            table.add_column("loss", justify="right")
            for name, loss in sorted(choice.losses.items(), key=lambda kv: kv[1]):
                mark = " [green]← chosen[/green]" if choice.prior is not None and name == choice.prior.name else ""
                table.add_row(name + mark, f"{loss:.4f}")
            console.print(table)
        if choice.prior is not None:
            console.print(f"starting from the prior [bold]{choice.prior.name}[/bold]")
    if choice.prior is not None:
        trainer.warm_start(choice.prior.path)
    return choice


def train(
    features_dir: str | Path,
    learner_profile,
    workdir: str | Path,
    *,
    parent_export_dir: str | Path | None = None,
    progress: bool = True,
    on_step: Callable[[int, float], None] | None = None,
    deu: str = "",
    player_profile=None,
    on_preview: Callable | None = None,
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
        deu: the deu's name (recorded in the previews' manifests).
        player_profile: the previews' playerProfile (the parent's; None: the defaults).
        on_preview: called with each :class:`~instrument_agent.personality.PreviewInfo` written
            into ``<workdir>/preview`` (every ``learnerProfile.preview_every`` steps).

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
        choice = None
    else:  # a new deu: start from the family prior learnerProfile.prior asks for (auto: the best-fitting one)
        choice = _start_from_prior(trainer, profile, Path(features_dir), progress)
    writer = training.PreviewWriter(
        Path(workdir) / PREVIEW_DIR,
        _preview_manifest(deu, profile, Path(features_dir), player_profile),
        on_written=on_preview,
        budget=training.preview_budget(profile),
    )
    result = trainer.fit(
        {"audio": examples.audio, "f0_hz": examples.f0_hz, "loudness_db": examples.loudness_db},
        on_step=on_step,
        on_preview=writer,
    )
    export_dir = out / "export"
    export_module.export(trainer.model, profile, export_dir)
    if choice is not None:  # a dotfile: travels with the export (KFP artifact), not bundled; push reads it
        write_json(export_dir / PRIOR_RECORD, choice.to_dict())
    write_json(
        out / "train.json",
        {
            **result.summary(),
            "previews": writer.written,
            "previews_skipped": writer.skipped,
            "preview_seconds": writer.seconds,
        },
    )
    return str(export_dir)


def _preview_manifest(deu: str, profile, features_dir: Path, player_profile) -> personality_pb2.PersonalityManifest:
    """What every preview's manifest carries: the deu, rates, both profiles, the feature statistics."""
    from instrument_agent.profiles import resolve_player_profile

    manifest = personality_pb2.PersonalityManifest(
        deu=deu, sample_rate=profile.sample_rate, frame_rate=profile.frame_rate
    )
    manifest.learner_profile.CopyFrom(profile)
    manifest.player_profile.CopyFrom(resolve_player_profile(player_profile))
    stats_path = features_dir / "stats.json"
    if stats_path.is_file():
        for key, value in read_json(stats_path).get("feature_stats", {}).items():
            setattr(manifest.feature_stats, key, value)
    return manifest
