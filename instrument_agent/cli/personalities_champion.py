"""``amadeus personalities promote | rollback | champion``: choose the version a deu plays by default."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from instrument_agent.cli.options import DeuArg, JsonOpt
from instrument_agent.cli.output import console

__all__ = ["champion_command", "promote", "rollback"]


def promote(
    deu: DeuArg,
    version: Annotated[int, typer.Argument(help="The version to make the champion.", show_default=False)],
) -> None:
    """Make VERSION the deu's champion: the version played when none is named.

    The earlier champions stay in the champion history; `rollback` goes back to the one before.

    With no version named, `amadeus play`, the agent and the studio play the champion, else the latest."""
    from instrument_agent.personality.store import PersonalityStore

    store = PersonalityStore()
    before = store.champion(deu)
    event = store.promote(deu, version)
    if before is not None and before == event:
        console.print(f"{escape(deu)} v{event.version} is already the champion ({event.digest[:12]})")
        return
    was = f" (was v{before.version})" if before is not None else ""
    console.print(f"[green]champion[/green] {escape(deu)} v{event.version} {event.digest[:12]}{was}")


def rollback(deu: DeuArg) -> None:
    """Go back to the champion before the current one (exit 2 when there is none)."""
    from instrument_agent.personality.store import PersonalityStore

    store = PersonalityStore()
    before = store.champion(deu)
    event = store.rollback(deu)
    was = f" (was v{before.version})" if before is not None else ""
    console.print(f"[green]champion[/green] {escape(deu)} v{event.version} {event.digest[:12]}{was}")


def champion_command(deu: DeuArg, as_json: JsonOpt = False) -> None:
    """The deu's champion, the version played by default, and the champion history.

    With no version named, `amadeus play`, the agent and the studio play the champion, else the latest."""
    from instrument_agent.personality.store import PersonalityStore

    store = PersonalityStore()
    default = store.default_version(deu)
    champion = store.champion(deu)
    history = store.champion_history(deu)
    if as_json:
        data = {
            "deu": deu,
            "champion": champion.version if champion else None,
            "default_version": default,
            "history": [event.to_dict() for event in history],
        }
        console.print_json(json.dumps(data))
        return
    source = "champion" if champion is not None and champion.version == default else "latest"
    console.print(f"{escape(deu)} plays v{default} by default ({source})")
    if history:
        table = Table(title=f"Champion history of {escape(deu)}")
        for column in ("at", "action", "version", "digest", "by"):
            table.add_column(column)
        for event in history:
            table.add_row(event.at, event.action, f"v{event.version}", event.digest[:12], escape(event.by))
        console.print(table)
