"""``amadeus practice imitation`` and ``amadeus demo`` (registered through the
``amadeus.cli`` entry point). Only typer and rich at import time; TensorFlow
and librosa load when a command runs.

The practice commands take both the friendly form (``amadeus practice imitation
a.wav b.wav --deu viola``) and the form the studio operator's Kubernetes Job runs
(``studio_operator.operator.job_backend.practice_command``)::

    amadeus practice <imitation|tuning|feedback> --deu D --practice-id UID --runner job
        [--audio URI]... [--base-version N] [--learner-profile JSON] [--player-profile JSON]
        [--performance URI --good A-B --bad A-B]

URIs are local paths or ``s3://`` objects (fetched, size-verified; :mod:`pipelines.inputs`).
The new version goes to the registry the environment names (:func:`_open_registry`),
its practice record carrying ``practice_id`` and ``runner``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

__all__ = ["register"]

_console = Console()

RUNNERS = ("embedded", "job")


def _open_registry():
    """The registry the environment configures (:meth:`pipelines.registry.RegistryConfig.from_env`).

    ``AMADEUS_REGISTRY_URI`` and ``AMADEUS_MLFLOW_TRACKING_URI`` (the names the operator's
    Job and the helm chart set) win over ``AMADEUS_REGISTRY`` and ``MLFLOW_TRACKING_URI``;
    none set: the local store under ``$AMADEUS_HOME``.
    """
    from pipelines.registry import RegistryConfig, open_registry

    return open_registry(
        RegistryConfig.from_env(
            uri=os.environ.get("AMADEUS_REGISTRY_URI", ""),
            mlflow_tracking_uri=os.environ.get("AMADEUS_MLFLOW_TRACKING_URI", ""),
        )
    )


class _Publisher:
    """Where a CLI practice runs, and how its new version reaches the registry.

    With the local store and no MLflow catalog the practice runs in that store's home
    and commits there itself (so an interrupted run resumes). Otherwise it runs in a
    scratch home: :meth:`parent` fetches the parent version from the registry into it,
    and :meth:`publish` publishes the practice's version from it (the registry allocates
    the number). The feature cache stays under ``$AMADEUS_HOME`` either way.
    """

    def __init__(self, registry):
        from pipelines.registry import LocalRegistry

        self.registry = registry
        self.direct = isinstance(registry.store, LocalRegistry) and registry.catalog is None
        self._tmp = None

    def __enter__(self) -> _Publisher:
        import tempfile

        from instrument_agent.personality.home import amadeus_home

        if self.direct:
            self.home = Path(self.registry.store.store.home)
        else:
            self._tmp = tempfile.TemporaryDirectory(prefix="amadeus-practice-")
            self.home = Path(self._tmp.name) / "home"
        self.cache_dir = (self.home if self.direct else amadeus_home()) / "cache" / "features"
        self.inputs = Path(self._tmp.name if self._tmp else tempfile.mkdtemp(prefix="amadeus-inputs-")) / "inputs"
        return self

    def __exit__(self, *exc) -> None:
        import shutil

        if self._tmp is not None:
            self._tmp.cleanup()
        else:
            shutil.rmtree(self.inputs.parent, ignore_errors=True)

    def parent(self, deu: str, base_version: int | None, *, required: bool) -> int | None:
        """The parent version to practise from, fetched into :attr:`home` when the registry is remote.
        None: let the practice choose (the latest of the local store)."""
        from instrument_agent.personality import UnknownDeuError
        from instrument_agent.personality.store import PersonalityStore

        if self.direct:
            return base_version or None
        try:
            version = base_version or self.registry.latest_version(deu)
        except UnknownDeuError:
            if required:
                raise UnknownDeuError(f"deu {deu!r}: it has no version in {self.registry.location}") from None
            return None
        self.registry.fetch_into(PersonalityStore(self.home), deu, version)
        return version

    def publish(self, deu: str, local_version: int) -> int:
        """Publish the practice's version (in :attr:`home`); returns its number in the registry."""
        from instrument_agent.personality.store import PersonalityStore

        if self.direct:
            return local_version
        return self.registry.publish(PersonalityStore(self.home).get(deu, local_version)).version


def _json_object(text: str | None, flag: str) -> dict:
    """``--learner-profile`` / ``--player-profile`` JSON text → dict (a usage error otherwise)."""
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise typer.BadParameter(f"{flag}: not valid JSON ({exc})") from None
    if not isinstance(value, dict):
        raise typer.BadParameter(f"{flag}: expected a JSON object of profile fields, got {type(value).__name__}")
    return value


def _check_runner(runner: str) -> str:
    if runner not in RUNNERS:
        raise typer.BadParameter(f"--runner {runner!r}: expected one of {', '.join(RUNNERS)}")
    return runner


def _published(deu: str, version: int, registry, practice_id: str) -> None:
    _console.print(
        f"[green]published {deu} v{version}[/green] to {registry.location}"
        + (f" (practice {practice_id})" if practice_id else "")
    )


def _practice_group(app: typer.Typer) -> typer.Typer:
    """The ``practice`` group, shared with other packages that add practice kinds."""
    for group in app.registered_groups:
        if group.name == "practice" and group.typer_instance is not None:
            return group.typer_instance
    group = typer.Typer(
        help=(
            "Practice sessions that make a new personality version of a deu: "
            "[bold]imitation[/bold] learns from recordings, [bold]tuning[/bold] changes the "
            "profiles, [bold]feedback[/bold] moves the sound toward the regions you liked."
        ),
        no_args_is_help=True,
    )
    app.add_typer(group, name="practice")
    return group


def _metrics_table(metrics: dict[str, float], title: str) -> Table:
    table = Table(title=title)
    table.add_column("resynthesis of held-out audio")
    table.add_column("multi-scale spectral loss", justify="right")
    rows = [
        ("learned personality", "eval/spectral_loss"),
        ("sine baseline (true f0 + loudness)", "baseline/sine"),
        ("1/k harmonic stack baseline", "baseline/harmonic_1_over_k"),
    ]
    for label, key in rows:
        if key in metrics:
            table.add_row(label, f"{metrics[key]:.4f}")
    return table


def imitation(
    deu: Annotated[str, typer.Option("--deu", "-d", help="The deu to practise (created if new).")],
    audio: Annotated[
        Optional[list[str]],
        typer.Argument(
            help="Recordings of one monophonic instrument (wav, flac, ogg, aiff; any rate/channels): paths or s3:// URIs."
        ),
    ] = None,
    audio_option: Annotated[
        Optional[list[str]], typer.Option("--audio", help="A recording (path or s3:// URI); repeatable.")
    ] = None,
    profile: Annotated[
        Optional[Path], typer.Option("--profile", "-p", help="learnerProfile YAML (proto field names).")
    ] = None,
    learner_profile: Annotated[
        Optional[str],
        typer.Option("--learner-profile", help="learnerProfile fields as a JSON object (over --profile)."),
    ] = None,
    player_profile: Annotated[
        Optional[str], typer.Option("--player-profile", help="playerProfile changes as a JSON object.")
    ] = None,
    base_version: Annotated[
        Optional[int], typer.Option("--base-version", help="The version to continue (default: the latest).")
    ] = None,
    practice_id: Annotated[
        str, typer.Option("--practice-id", help="Recorded in the new version's practice record.")
    ] = "",
    runner: Annotated[
        str, typer.Option("--runner", help="Recorded as the practice's runner: embedded | job.")
    ] = "embedded",
    steps: Annotated[Optional[int], typer.Option(help="Optimiser steps.")] = None,
    sample_rate: Annotated[Optional[int], typer.Option(help="Model sample rate, Hz (16000..48000).")] = None,
    frame_rate: Annotated[
        Optional[int], typer.Option(help="Control frames per second (must divide the sample rate).")
    ] = None,
    batch_size: Annotated[Optional[int], typer.Option(help="Examples per step.")] = None,
    example_seconds: Annotated[Optional[float], typer.Option(help="Length of one training example, s.")] = None,
    learning_rate: Annotated[Optional[float], typer.Option(help="Adam learning rate.")] = None,
    f0_method: Annotated[Optional[str], typer.Option(help="Pitch tracker: pyin | yin.")] = None,
    max_minutes: Annotated[Optional[float], typer.Option(help="Stop training after this many minutes.")] = None,
    device: Annotated[Optional[str], typer.Option(help="auto | cpu | gpu.")] = None,
    new: Annotated[bool, typer.Option("--new", help="Start afresh instead of continuing the latest version.")] = False,
    restart: Annotated[
        bool, typer.Option("--restart", help="Discard an interrupted run of this practice instead of resuming it.")
    ] = False,
) -> None:
    """Learn a personality by imitating recordings (DDSP), and publish it as the deu's next version.

    Prepares the audio (mono, resampled, silence trimmed, cut into examples, the
    last part held out), extracts f0 and loudness (cached), trains with
    checkpoints, exports, scores the held-out audio against a sine and a 1/k
    baseline, and publishes atomically. Interrupt it at any time: the same
    command resumes where it stopped (with the local store; a remote registry, set by
    AMADEUS_REGISTRY_URI / AMADEUS_REGISTRY, gets the version when it is done).
    """
    from instrument_agent.profiles import (
        learner_profile_from_yaml,
        merge_profile,
        resolve_learner_profile,
        resolve_player_profile,
    )
    from instrument_agent.proto import personality_pb2
    from pipelines.inputs import fetch_inputs
    from pipelines.practice import run_imitation

    _check_runner(runner)
    uris = [*(audio or ()), *(audio_option or ())]
    if not uris:
        raise typer.BadParameter("give at least one recording (AUDIO... or --audio URI)")
    learner_changes = _json_object(learner_profile, "--learner-profile")
    player_changes = _json_object(player_profile, "--player-profile")
    base = learner_profile_from_yaml(profile) if profile else personality_pb2.LearnerProfile()
    base = merge_profile(base, learner_changes, source="--learner-profile")
    overrides = {
        "steps": steps,
        "sample_rate": sample_rate,
        "frame_rate": frame_rate,
        "batch_size": batch_size,
        "example_seconds": example_seconds,
        "learning_rate": learning_rate,
        "f0_method": f0_method,
        "max_train_seconds": max_minutes * 60.0 if max_minutes else None,
        "device": device,
    }
    learner = resolve_learner_profile(merge_profile(base, overrides, source="command-line flags"))
    registry = _open_registry()
    with _Publisher(registry) as publisher:
        paths = fetch_inputs(uris, publisher.inputs)
        parent = None if new else publisher.parent(deu, base_version, required=bool(base_version))
        player = None
        if player_changes:
            base_player = None
            if parent:
                from instrument_agent.personality.store import PersonalityStore

                base_player = PersonalityStore(publisher.home).get(deu, parent).manifest.player_profile
            player = merge_profile(
                resolve_player_profile(base_player), dict(player_changes, configured=True), source="--player-profile"
            )
        manifest = run_imitation(
            deu,
            paths,
            learner,
            home=publisher.home,
            resume=not restart,
            new=new,
            base_version=parent,
            player_profile=player,
            practice_id=practice_id,
            runner=runner,
            cache_dir=publisher.cache_dir,
            audio_uris=uris,
        )
        version = publisher.publish(deu, manifest.version)
    _console.print(_metrics_table(dict(manifest.metrics), f"{deu} v{version}"))
    _published(deu, version, registry, practice_id)


def demo(
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the rendered phrase.")] = Path("demo.wav"),
    minutes: Annotated[float, typer.Option(help="Minutes of training audio to generate.")] = 2.5,
    steps: Annotated[Optional[int], typer.Option(help="Training steps (default: the demo profile's).")] = None,
    soundfont: Annotated[
        Optional[str],
        typer.Option(
            help="Render the training audio with this soundfont (FluidR3, TimGM6mb or a .sf2 path) via fluidsynth."
        ),
    ] = None,
) -> None:
    """Everything in one go, on a fresh machine: make training audio, practise the deu 'demo'
    for a few minutes, play the bundled phrase with it to demo.wav, and compare its held-out
    loss with a sine and a 1/k harmonic stack driven by the true f0 and loudness."""
    from pipelines.demo import run_demo

    result = run_demo(out, minutes=minutes, steps=steps, soundfont=soundfont)
    table = _metrics_table(result.metrics, f"amadeus demo: {result.deu} v{result.version}")
    _console.print(table)
    summary = Table(show_header=False)
    summary.add_row("training audio", str(result.training_audio))
    summary.add_row("practice time", f"{result.train_seconds:.0f} s ({result.steps} steps max)")
    summary.add_row("personality", f"{result.deu} v{result.version}  (amadeus personalities show {result.deu})")
    summary.add_row("rendered phrase", str(result.out))
    summary.add_row("total time", f"{result.total_seconds:.0f} s")
    _console.print(summary)
    learned = result.metrics.get("eval/spectral_loss", float("inf"))
    if not all(learned < result.metrics.get(k, float("inf")) for k in ("baseline/sine", "baseline/harmonic_1_over_k")):
        _console.print("[yellow]the personality did not beat both baselines; try more --steps[/yellow]")
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add ``practice imitation|tuning|feedback``, ``pipelines compile`` and ``demo`` to the ``amadeus`` app."""
    from pipelines.feedback import cli as feedback_cli
    from pipelines.kfp_pipelines import cli as kfp_cli

    _practice_group(app).command("imitation")(imitation)
    feedback_cli.register(app)
    kfp_cli.register(app)
    app.command("demo")(demo)
