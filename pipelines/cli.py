"""``amadeus practice imitation`` and ``amadeus demo`` (registered through the
``amadeus.cli`` entry point). Only typer and rich at import time; TensorFlow
and librosa load when a command runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

__all__ = ["register"]

_console = Console()


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
    audio: Annotated[list[Path], typer.Argument(help="Recordings of one monophonic instrument (wav, flac, ogg, aiff; any rate/channels).")],
    deu: Annotated[str, typer.Option("--deu", "-d", help="The deu to practise (created if new).")],
    profile: Annotated[Optional[Path], typer.Option("--profile", "-p", help="learnerProfile YAML (proto field names).")] = None,
    steps: Annotated[Optional[int], typer.Option(help="Optimiser steps.")] = None,
    sample_rate: Annotated[Optional[int], typer.Option(help="Model sample rate, Hz (16000..48000).")] = None,
    frame_rate: Annotated[Optional[int], typer.Option(help="Control frames per second (must divide the sample rate).")] = None,
    batch_size: Annotated[Optional[int], typer.Option(help="Examples per step.")] = None,
    example_seconds: Annotated[Optional[float], typer.Option(help="Length of one training example, s.")] = None,
    learning_rate: Annotated[Optional[float], typer.Option(help="Adam learning rate.")] = None,
    f0_method: Annotated[Optional[str], typer.Option(help="Pitch tracker: pyin | yin.")] = None,
    max_minutes: Annotated[Optional[float], typer.Option(help="Stop training after this many minutes.")] = None,
    device: Annotated[Optional[str], typer.Option(help="auto | cpu | gpu.")] = None,
    new: Annotated[bool, typer.Option("--new", help="Start afresh instead of continuing the latest version.")] = False,
    restart: Annotated[bool, typer.Option("--restart", help="Discard an interrupted run of this practice instead of resuming it.")] = False,
) -> None:
    """Learn a personality by imitating recordings (DDSP), and publish it as the deu's next version.

    Prepares the audio (mono, resampled, silence trimmed, cut into examples, the
    last part held out), extracts f0 and loudness (cached), trains with
    checkpoints, exports, scores the held-out audio against a sine and a 1/k
    baseline, and publishes atomically. Interrupt it at any time: the same
    command resumes where it stopped.
    """
    from instrument_agent.profiles import learner_profile_from_yaml, merge_profile, resolve_learner_profile
    from instrument_agent.proto import personality_pb2
    from pipelines.practice import run_imitation

    base = learner_profile_from_yaml(profile) if profile else personality_pb2.LearnerProfile()
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
    manifest = run_imitation(deu, audio, learner, resume=not restart, new=new)
    _console.print(_metrics_table(dict(manifest.metrics), f"{deu} v{manifest.version}"))


def demo(
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the rendered phrase.")] = Path("demo.wav"),
    minutes: Annotated[float, typer.Option(help="Minutes of training audio to generate.")] = 2.5,
    steps: Annotated[Optional[int], typer.Option(help="Training steps (default: the demo profile's).")] = None,
    soundfont: Annotated[
        Optional[str], typer.Option(help="Render the training audio with this soundfont (FluidR3, TimGM6mb or a .sf2 path) via fluidsynth.")
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
