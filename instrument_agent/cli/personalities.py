"""``amadeus personalities list | show | verify | export`` (export: :mod:`.exports`): the local store,
and :func:`personalities_table`, the one drawing of a list of personality versions (also used by
``amadeus studio list``)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Annotated, Optional, Protocol

import typer
from rich.markup import escape
from rich.table import Table

from instrument_agent.cli import exports
from instrument_agent.cli.options import JsonOpt, VersionOpt
from instrument_agent.cli.output import console

__all__ = ["COLUMNS", "PersonalityRow", "personalities_table", "register"]

COLUMNS = ("deu", "version", "parent", "practice", "created", "digest")


class PersonalityRow(Protocol):
    """One version of a deu: the local store's ``VersionInfo`` and the studio's ``PersonalityVersion`` both fit."""

    @property
    def deu(self) -> str: ...
    @property
    def version(self) -> int: ...
    @property
    def parent_version(self) -> int: ...  # 0: none (a first imitation)
    @property
    def practice(self) -> str: ...
    @property
    def created(self) -> str: ...  # RFC 3339
    @property
    def digest(self) -> str: ...  # sha256 of the manifest, hex


def personalities_table(rows: Iterable[PersonalityRow], title: str) -> Table:
    """A table of personality versions, one row each: deu, version, parent, practice, created, digest (12 hex)."""
    table = Table(title=title)
    for column in COLUMNS:
        table.add_column(column)
    for row in rows:
        table.add_row(
            escape(row.deu),
            str(row.version),
            str(row.parent_version or "-"),
            row.practice,
            row.created,
            row.digest[:12],
        )
    return table


def list_personalities(
    deu: Annotated[Optional[str], typer.Argument(help="Only this deu's versions.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Every version of every deu (or of one deu), with its lineage and practice."""
    from instrument_agent.personality.store import PersonalityStore

    store = PersonalityStore()
    rows = [info for name in ([deu] if deu else store.deus()) for info in store.versions(name)]
    if deu and not rows:
        store.latest_version(deu)  # raises a clear UnknownDeuError
    if as_json:
        console.print_json(json.dumps([row.to_dict() for row in rows]))
        return
    if not rows:
        console.print(f"No personalities yet in {store.root}. Start with: amadeus demo")
        return
    console.print(personalities_table(rows, f"Personalities in {store.root}"))


def show(
    deu: Annotated[str, typer.Argument(help="The deu's name.", show_default=False)],
    version: VersionOpt = None,
) -> None:
    """Verify one personality and print its manifest (profiles, metrics, lineage, files)."""
    from instrument_agent.personality import manifest_to_dict
    from instrument_agent.personality.store import PersonalityStore

    bundle = PersonalityStore().get(deu, version)
    console.print_json(
        json.dumps({"path": str(bundle.path), "digest": bundle.digest, **manifest_to_dict(bundle.manifest)})
    )


def verify(deu: Annotated[Optional[str], typer.Argument(help="Only this deu (default: all).")] = None) -> None:
    """Re-hash every file of every version; exit 1 if any bundle was changed or truncated."""
    from instrument_agent.personality import PersonalityError
    from instrument_agent.personality.store import PersonalityStore

    store = PersonalityStore()
    failures = 0
    for name in [deu] if deu else store.deus():
        for info in store.versions(name):
            try:
                store.get(name, info.version)
                console.print(f"[green]ok[/green]   {name} v{info.version} {info.digest[:12]}")
            except PersonalityError as exc:
                failures += 1
                console.print(f"[red]FAIL[/red] {name} v{info.version}: {escape(str(exc))}")
    raise typer.Exit(1 if failures else 0)


def register(app: typer.Typer) -> None:
    """Add ``personalities list|show|verify|export`` to the ``amadeus`` app."""
    group = typer.Typer(help="List, inspect and verify the personalities in the local store.", no_args_is_help=True)
    group.command("list")(list_personalities)
    group.command("show")(show)
    group.command("verify")(verify)
    group.command("export")(exports.export)
    app.add_typer(group, name="personalities")
