"""``amadeus practice feedback`` and ``amadeus practice tuning`` (register with :func:`register`).
Only typer/rich at import time.

Both take the friendly flags and the studio operator's Job form (``--practice-id``,
``--runner``, ``--base-version``, ``--learner-profile`` / ``--player-profile`` JSON,
``--performance`` as a path or ``s3://`` URI); see :mod:`pipelines.cli`.
"""

from __future__ import annotations

import json
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
    performance: Annotated[
        str, typer.Option("--performance", help="Audio of the performance (wav, flac...): a path or s3:// URI.")
    ],
    good: Annotated[
        Optional[list[str]], typer.Option("--good", help="A liked region START-END in seconds; repeatable.")
    ] = None,
    bad: Annotated[
        Optional[list[str]], typer.Option("--bad", help="A disliked region START-END in seconds; repeatable.")
    ] = None,
    version: Annotated[
        Optional[int], typer.Option("--version", "--base-version", help="The judged version (default: the latest).")
    ] = None,
    steps: Annotated[int, typer.Option(help="Optimiser steps.")] = 60,
    practice_id: Annotated[
        str, typer.Option("--practice-id", help="Recorded in the new version's practice record.")
    ] = "",
    runner: Annotated[
        str, typer.Option("--runner", help="Recorded as the practice's runner: embedded | job.")
    ] = "embedded",
) -> None:
    """Tell the deu what you liked and disliked in a performance; its playerProfile moves toward the liked sound."""
    import tempfile

    from rich.progress import Progress

    from pipelines.cli import _check_runner, _open_registry, _published
    from pipelines.feedback import FeedbackRegionError, PerformanceReadError, parse_region, run_feedback
    from pipelines.inputs import fetch_inputs

    _check_runner(runner)
    try:
        regions = [parse_region(t, "good") for t in good or ()] + [parse_region(t, "bad") for t in bad or ()]
    except FeedbackRegionError as exc:
        raise typer.BadParameter(str(exc)) from None
    registry = _open_registry()
    with tempfile.TemporaryDirectory(prefix="amadeus-feedback-in-") as work:
        (path,) = fetch_inputs([performance], work)
        try:
            with Progress(console=Console(stderr=True), transient=True) as bar:
                task = bar.add_task("optimising the playerProfile", total=steps)
                result = run_feedback(
                    deu,
                    path,
                    regions,
                    base_version=version,
                    steps=steps,
                    registry=registry,
                    practice_id=practice_id,
                    runner=runner,
                    performance_uri=performance,
                    progress=lambda s, _loss: bar.update(task, completed=s),
                )
        except (FeedbackRegionError, PerformanceReadError) as exc:
            raise typer.BadParameter(str(exc)) from None
    table = Table(title=f"{deu} v{result.version} (from v{result.parent_version})")
    for column in ("knob", "before", "after"):
        table.add_column(column, justify="right" if column != "knob" else "left")
    for key, value in result.knobs.items():
        table.add_row(key, f"{result.previous_knobs[key]:+.2f}", f"{value:+.2f}")
    _console.print(table)
    _published(deu, result.version, registry, practice_id)


def tuning(
    deu: Annotated[str, typer.Option("--deu", "-d", help="The deu to tune.")],
    player: Annotated[
        Optional[str],
        typer.Option(
            "--player", "--player-profile", help="playerProfile changes as JSON, e.g. '{\"harmonic_tilt\": -3}'."
        ),
    ] = None,
    learner: Annotated[
        Optional[str],
        typer.Option(
            "--learner",
            "--learner-profile",
            help="learnerProfile changes as JSON, e.g. '{\"steps\": 3000}' (re-practises).",
        ),
    ] = None,
    version: Annotated[
        int, typer.Option("--version", "--base-version", help="The version to tune (0 = the latest).")
    ] = 0,
    practice_id: Annotated[
        str, typer.Option("--practice-id", help="Recorded in the new version's practice record.")
    ] = "",
    runner: Annotated[
        str, typer.Option("--runner", help="Recorded as the practice's runner: embedded | job.")
    ] = "embedded",
) -> None:
    """Change a deu's profiles: a playerProfile change is a new version at once; a learnerProfile
    change re-runs its last practice on the same audio (cached features) with the new parameters."""
    import time

    from pipelines.cli import _check_runner, _open_registry, _published, _Publisher
    from pipelines.tuning import run_tuning

    _check_runner(runner)
    try:
        changes = {name: json.loads(text) if text else {} for name, text in (("player", player), ("learner", learner))}
    except ValueError as exc:
        raise typer.BadParameter(f"profile changes must be JSON objects ({exc})") from None
    if not all(isinstance(v, dict) for v in changes.values()):
        raise typer.BadParameter("profile changes must be JSON objects of profile fields")
    if not changes["player"] and not changes["learner"]:
        raise typer.BadParameter("give at least one change: --player-profile JSON and/or --learner-profile JSON")
    started = time.perf_counter()
    registry = _open_registry()
    with _Publisher(registry) as publisher:
        parent = publisher.parent(deu, version or None, required=True)
        manifest = run_tuning(
            deu,
            changes["learner"],
            changes["player"] or None,
            base_version=parent,
            home=publisher.home,
            practice_id=practice_id,
            runner=runner,
            cache_dir=publisher.cache_dir,
        )
        published = publisher.publish(deu, manifest.version)
    how = "re-practised" if changes["learner"] else "no training"
    _console.print(f"[green]{deu} v{published}[/green] ({how}, {time.perf_counter() - started:.1f} s)")
    _published(deu, published, registry, practice_id)


def register(app: typer.Typer) -> None:
    """Add ``practice feedback`` and ``practice tuning`` to the ``amadeus`` app."""
    group = _practice_group(app)
    group.command("feedback")(feedback)
    group.command("tuning")(tuning)
