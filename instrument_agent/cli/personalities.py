"""``amadeus personalities list | show | verify`` (plus promote, rollback, champion, compare, export and
import from the sibling modules): the local store (``show --coverage-png``: the practice coverage map),
and :func:`personalities_table`,
the one drawing of a list of personality versions (also used by ``amadeus studio list``)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
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


def personalities_table(
    rows: Iterable[PersonalityRow], title: str, champions: Mapping[str, int] | None = None
) -> Table:
    """A table of personality versions, one row each: deu, version, parent, practice, created, digest (12 hex).

    ``champions`` (deu → version) marks each deu's champion with a ★ after its version number.
    """
    champions = champions or {}
    table = Table(title=title)
    for column in COLUMNS:
        table.add_column(column)
    for row in rows:
        table.add_row(
            escape(row.deu),
            f"{row.version} ★" if champions.get(row.deu) == row.version else str(row.version),
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
    """Every version of every deu (or of one deu), with its lineage and practice; ★ marks the champion."""
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
    champions = {name: event.version for name in {r.deu for r in rows} if (event := store.champion(name))}
    console.print(personalities_table(rows, f"Personalities in {store.root}", champions))


def show(
    deu: Annotated[str, typer.Argument(help="The deu's name.", show_default=False)],
    version: VersionOpt = None,
    coverage: Annotated[
        bool,
        typer.Option(
            "--coverage",
            help="Print the practice coverage map in words (notes and loudness practised, gaps, what to record "
            "next) instead of the manifest.",
        ),
    ] = False,
    coverage_png: Annotated[
        Optional[Path],
        typer.Option(
            "--coverage-png",
            help="Also draw the coverage map to this PNG (pitch to the right, loudness up, brighter = more "
            "practice); implies --coverage.",
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Verify one personality and print its manifest (profiles, metrics, lineage, files, coverage map),
    or, with --coverage / --coverage-png, where its training audio lies in pitch and loudness."""
    from instrument_agent.coverage_map import bundle_coverage, bundle_summary
    from instrument_agent.personality import manifest_to_dict
    from instrument_agent.personality.store import PersonalityStore

    store = PersonalityStore()
    bundle = store.get(deu, store.resolve(deu, version))
    practised, summary = bundle_coverage(bundle), bundle_summary(bundle)
    if coverage or coverage_png is not None:
        _show_coverage(bundle, practised, summary, coverage_png)
        return
    shown = manifest_to_dict(bundle.manifest)
    if practised is not None:  # the cells that hold practice, not 2048 numbers
        shown["coverage"] = {**practised.to_dict(), "summary": summary.lines()}
    console.print_json(json.dumps({"path": str(bundle.path), "digest": bundle.digest, **shown}))


def _show_coverage(bundle, practised, summary, png: Path | None) -> None:
    from instrument_agent.coverage_map import write_coverage_png

    console.print(f"[bold]{escape(bundle.deu)} v{bundle.version}[/bold]: practice coverage")
    for line in summary.lines():
        console.print(f"  {escape(line)}")
    if png is not None:
        if practised is None:
            console.print("[yellow]no coverage map in this personality: no PNG written[/yellow]")
            raise typer.Exit(1)
        write_coverage_png(png, practised)
        console.print(f"[green]wrote[/green] {escape(str(png))}")


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
    """Add ``personalities list|show|verify|promote|rollback|champion`` to the ``amadeus`` app."""
    from instrument_agent.cli.personalities_champion import champion_command, promote, rollback
    from instrument_agent.cli.personalities_compare import compare_command
    from instrument_agent.cli.personalities_portable import import_command

    group = typer.Typer(
        help="The personalities in the local store: list, inspect, verify, compare, promote, roll back, "
        "export and import.",
        no_args_is_help=True,
    )
    group.command("list")(list_personalities)
    group.command("show")(show)
    group.command("verify")(verify)
    group.command("promote")(promote)
    group.command("rollback")(rollback)
    group.command("champion")(champion_command)
    group.command("compare")(compare_command)
    group.command("export")(exports.export)
    group.command("import")(import_command)
    app.add_typer(group, name="personalities")
