"""``amadeus practice feedback`` and ``amadeus practice tuning`` (register with :func:`register`).
Only typer/rich at import time."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

__all__ = ["register"]

_console = Console()


def _practice_group(app: typer.Typer) -> typer.Typer:
    for group in app.registered_groups:
        if group.name == "practice" and group.typer_instance is not None:
            return group.typer_instance
    group = typer.Typer(help="Practice sessions that make a new personality version of a deu.", no_args_is_help=True)
    app.add_typer(group, name="practice")
    return group


def feedback(
    deu: Annotated[str, typer.Option("--deu", "-d", help="The deu that played the performance.")],
    performance: Annotated[Path, typer.Option("--performance", help="Audio of the performance (wav, flac...).")],
    good: Annotated[Optional[list[str]], typer.Option("--good", help="A liked region START-END in seconds; repeatable.")] = None,
    bad: Annotated[Optional[list[str]], typer.Option("--bad", help="A disliked region START-END in seconds; repeatable.")] = None,
    version: Annotated[Optional[int], typer.Option(help="The judged version (default: the latest).")] = None,
    steps: Annotated[int, typer.Option(help="Optimiser steps.")] = 60,
) -> None:
    """Tell the deu what you liked and disliked in a performance; its playerProfile moves toward the liked sound."""
    from rich.progress import Progress

    from pipelines.feedback import FeedbackRegionError, PerformanceReadError, parse_region, run_feedback

    try:
        regions = [parse_region(t, "good") for t in good or ()] + [parse_region(t, "bad") for t in bad or ()]
        with Progress(console=Console(stderr=True), transient=True) as bar:
            task = bar.add_task("optimising the playerProfile", total=steps)
            result = run_feedback(deu, performance, regions, base_version=version, steps=steps, progress=lambda s, _loss: bar.update(task, completed=s))
    except (FeedbackRegionError, PerformanceReadError) as exc:
        raise typer.BadParameter(str(exc)) from None
    table = Table(title=f"{deu} v{result.version} (from v{result.parent_version})")
    for column in ("knob", "before", "after"):
        table.add_column(column, justify="right" if column != "knob" else "left")
    for key, value in result.knobs.items():
        table.add_row(key, f"{result.previous_knobs[key]:+.2f}", f"{value:+.2f}")
    _console.print(table)


def tuning(
    deu: Annotated[str, typer.Option("--deu", "-d", help="The deu to tune.")],
    player: Annotated[Optional[str], typer.Option(help='playerProfile changes as JSON, e.g. \'{"harmonic_tilt": -3}\'.')] = None,
    learner: Annotated[Optional[str], typer.Option(help='learnerProfile changes as JSON, e.g. \'{"steps": 3000}\' (re-practises).')] = None,
    version: Annotated[int, typer.Option(help="The version to tune (0 = the latest).")] = 0,
) -> None:
    """Change a deu's profiles: a playerProfile change is a new version at once; a learnerProfile
    change re-runs its last practice on the same audio (cached features) with the new parameters."""
    from pipelines.tuning import tune

    try:
        changes = {name: json.loads(text) if text else None for name, text in (("player", player), ("learner", learner))}
    except ValueError as exc:
        raise typer.BadParameter(f"profile changes must be JSON objects ({exc})") from None
    result = tune(deu, learner_changes=changes["learner"], player_changes=changes["player"], base_version=version)
    how = "no training" if result.mode == "player" else "re-practised"
    _console.print(f"[green]{deu} v{result.version}[/green] ({how}, {result.seconds:.1f} s)")


def register(app: typer.Typer) -> None:
    """Add ``practice feedback`` and ``practice tuning`` to the ``amadeus`` app."""
    group = _practice_group(app)
    group.command("feedback")(feedback)
    group.command("tuning")(tuning)
