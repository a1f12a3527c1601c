"""``amadeus priors list``: the family priors a new deu's imitation practice can start from
(works with only ``amadeus[agent]``; ``amadeus priors build`` comes with the pipelines package)."""

from __future__ import annotations

import typer
from rich.table import Table

from instrument_agent.cli.groups import command_group
from instrument_agent.cli.output import console

__all__ = ["PRIORS_HELP", "register"]

PRIORS_HELP = (
    "Family priors: starter personalities trained on renders of the FluidR3_GM soundfont (MIT). "
    "A new deu's imitation practice starts from the one that fits its audio best (--prior auto)."
)


def list_command() -> None:
    """List the priors: family, GM instruments, size on disk, training data and licence."""
    from instrument_agent.priors import list_priors, priors_dir

    priors = list_priors()
    if not priors:
        console.print(f"no priors in {priors_dir()} (build them with `amadeus priors build`)")
        return
    table = Table(title=f"priors ({priors_dir()})")
    for column in ("name", "family"):  # whole names, never ellipsised: they are what --prior takes
        table.add_column(column, no_wrap=True, min_width=max(len(p.name) for p in priors))
    table.add_column("instruments", ratio=1)
    table.add_column("size", justify="right", no_wrap=True)
    table.add_column("data")
    table.add_column("licence", no_wrap=True)
    for prior in priors:
        table.add_row(
            prior.name,
            prior.family,
            ", ".join(prior.instruments),
            f"{prior.size_bytes / 1e6:.2f} MB",
            prior.data,
            prior.licence,
        )
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add ``amadeus priors list`` (the group is shared with ``priors build``)."""
    command_group(app, "priors", PRIORS_HELP).command("list")(list_command)
