"""``amadeus registry promote | rollback | champion``: the champion in the configured registry.

The registry is the one practices publish to (``AMADEUS_REGISTRY``: ``s3://bucket/prefix`` with
``AMADEUS_S3_ENDPOINT``, or the local store; ``MLFLOW_TRACKING_URI`` adds the MLflow catalog).
A promote or rollback is written to the store first (the source of truth: an S3 event object
created conditionally, or the local store's champion history, atomically) and then mirrored to
MLflow's ``champion`` alias, which from then on follows the ama's choice rather than the loss.
"""

from __future__ import annotations

from typing import Annotated

import typer

from ._output import console

__all__ = ["registry_app"]

registry_app = typer.Typer(
    help=(
        "The champion in the practice registry (S3 / MinIO or the local store, mirrored to MLflow's champion "
        "alias): the version studios and agents play when none is named (else the latest)."
    ),
    no_args_is_help=True,
)

DeuArg = Annotated[str, typer.Argument(help="The deu (instrument), by name.", show_default=False)]


def _open():
    from pipelines.registry import open_registry

    return open_registry()


@registry_app.command("promote")
def promote_command(
    deu: DeuArg,
    version: Annotated[int, typer.Argument(help="The version to make the champion.", show_default=False)],
) -> None:
    """Make VERSION the champion in the registry and in MLflow (the earlier ones stay in the history)."""
    registry = _open()
    event = registry.promote(deu, version, by="amadeus registry promote")
    console.print(f"[green]champion[/green] {deu} v{event.version} {event.digest[:12]} in {registry.location}")


@registry_app.command("rollback")
def rollback_command(deu: DeuArg) -> None:
    """Go back to the champion before the current one (exit 2 when there is none)."""
    registry = _open()
    event = registry.rollback(deu, by="amadeus registry rollback")
    console.print(f"[green]champion[/green] {deu} v{event.version} {event.digest[:12]} in {registry.location}")


@registry_app.command("champion")
def champion_command(deu: DeuArg) -> None:
    """The version played by default (the champion, else the latest) and the champion history."""
    registry = _open()
    default = registry.default_version(deu)
    console.print(f"{deu} plays v{default} by default in {registry.location}")
    for event in registry.champion_history(deu):
        console.print(f"  {event.at}  {event.action:8s} v{event.version}  {event.digest[:12]}  {event.by}")
