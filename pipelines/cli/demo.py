"""``amadeus demo``: everything in one go on a fresh machine."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from ._output import console, metrics_table

__all__ = ["demo"]


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
    table = metrics_table(result.metrics, f"amadeus demo: {result.deu} v{result.version}")
    console.print(table)
    summary = Table(show_header=False)
    summary.add_row("training audio", str(result.training_audio))
    summary.add_row("practice time", f"{result.train_seconds:.0f} s ({result.steps} steps max)")
    summary.add_row("personality", f"{result.deu} v{result.version}  (amadeus personalities show {result.deu})")
    summary.add_row("rendered phrase", str(result.out))
    summary.add_row("total time", f"{result.total_seconds:.0f} s")
    console.print(summary)
    learned = result.metrics.get("eval/spectral_loss", float("inf"))
    if not all(learned < result.metrics.get(k, float("inf")) for k in ("baseline/sine", "baseline/harmonic_1_over_k")):
        console.print("[yellow]the personality did not beat both baselines; try more --steps[/yellow]")
        raise typer.Exit(1)
