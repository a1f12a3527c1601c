"""``amadeus studio list | download | perform | account``: your personalities (and your plan's usage) in a
studio, through the light
studio client (:mod:`instrument_agent.client.studio_client`; grpc loads inside the commands).

The practice commands (``practice``, ``watch``) are in :mod:`.studio_practice`, the registrations
(``add``, ``studios``, ``select``, ``remove``) in :mod:`.studios`; ``serve``, ``amas``, ``token`` and
``usage`` (the operator's: they read the studio's database) come from ``studio_operator`` when the
studio is installed. All of them share the one ``studio`` group
(:func:`~instrument_agent.cli.groups.studio_group`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from instrument_agent.cli.groups import studio_group
from instrument_agent.cli.options import CaOpt, DeuArg, JsonOpt, SampleRateOpt, StudioOpt, TlsOpt, TokenOpt, VersionOpt
from instrument_agent.cli.output import console, progress_bar
from instrument_agent.cli.personalities import personalities_table
from instrument_agent.cli.studios import resolve_studio

__all__ = ["PANEL", "register"]

PANEL = "Through a studio"


def list_command(
    deu: Annotated[str, typer.Argument(help="Only this deu's versions (default: every deu).")] = "",
    as_json: JsonOpt = False,
    studio: StudioOpt = None,
    token: TokenOpt = None,
    tls: TlsOpt = False,
    ca: CaOpt = None,
) -> None:
    """Your personalities in the studio: every version, with its lineage and practice; ★ marks each deu's
    champion (the version played and synced when none is named; without one, the latest)."""
    target = resolve_studio(studio, token, tls=tls, ca=ca)
    with target.session() as client:
        rows = client.list_personalities(deu)
    if as_json:
        keys = ("deu", "version", "parent_version", "practice", "created", "digest", "champion")
        console.print_json(json.dumps([{key: getattr(row, key) for key in keys} for row in rows]))
        return
    champions = {row.deu: row.version for row in rows if row.champion}
    console.print(personalities_table(rows, f"Personalities at {target.name or target.address}", champions))


def download_command(
    deu: DeuArg,
    version: VersionOpt = None,
    install: Annotated[
        bool,
        typer.Option(help="Add it to the local store ($AMADEUS_HOME) at the studio's version number."),
    ] = True,
    out: Annotated[Optional[Path], typer.Option(help="Unpack the bundle into this new directory instead.")] = None,
    studio: StudioOpt = None,
    token: TokenOpt = None,
    tls: TlsOpt = False,
    ca: CaOpt = None,
) -> None:
    """Download a personality (resumable, every file's digest verified) into the local store."""
    import tempfile

    from instrument_agent.personality import PersonalityError
    from instrument_agent.personality.store import PersonalityStore

    target = resolve_studio(studio, token, tls=tls, ca=ca)
    with target.session(PersonalityError) as client, progress_bar() as bar:
        task = bar.add_task(f"{deu}", total=None)

        def report(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        if out is not None:
            bundle = client.download(deu, out, version=version or 0, progress=report)
        else:
            store = PersonalityStore()
            with tempfile.TemporaryDirectory(dir=store.home if store.home.exists() else None) as tmp:
                got = client.download(deu, Path(tmp) / "bundle", version=version or 0, progress=report)
                files = {e.path: got.path / e.path for e in got.manifest.files}
                bundle = store.commit(deu, got.manifest, files, version=got.version) if install else got
    console.print(f"[green]{bundle.deu} v{bundle.version}[/green] {bundle.digest[:12]} → {bundle.path}")


def perform_command(
    deu: DeuArg,
    midi: Annotated[Path, typer.Argument(help="A Standard MIDI File (plain or MPE).", show_default=False)],
    out: Annotated[Path, typer.Option("--out", "-o", help="WAV file to write.", show_default=False)],
    version: VersionOpt = None,
    sample_rate: SampleRateOpt = None,
    studio: StudioOpt = None,
    token: TokenOpt = None,
    tls: TlsOpt = False,
    ca: CaOpt = None,
) -> None:
    """Render a MIDI file in the studio (no local model needed) and write the WAV atomically."""
    import os
    import uuid

    target = resolve_studio(studio, token, tls=tls, ca=ca)
    with target.session(OSError) as client:
        response = client.perform_file(
            midi, deu=deu, version=version or 0, sample_rate=sample_rate or 48000, timeout=None
        )
    tmp = out.with_name(f".{out.name}.{uuid.uuid4().hex[:8]}")
    tmp.write_bytes(response.audio)
    os.replace(tmp, out)
    console.print(f"{response.deu} v{response.version}: {response.seconds:.2f} s → {out} ({response.renderer})")


def promote_command(
    deu: DeuArg,
    version: Annotated[int, typer.Argument(help="The version to make the champion.", show_default=False)],
    studio: StudioOpt = None,
    token: TokenOpt = None,
    tls: TlsOpt = False,
    ca: CaOpt = None,
) -> None:
    """Make VERSION the deu's champion at the studio: what it plays, and agents sync, when no version is named."""
    _set_champion(resolve_studio(studio, token, tls=tls, ca=ca), deu, version=version)


def rollback_command(
    deu: DeuArg,
    studio: StudioOpt = None,
    token: TokenOpt = None,
    tls: TlsOpt = False,
    ca: CaOpt = None,
) -> None:
    """Go back to the deu's previous champion at the studio (exit 2 when there is none)."""
    _set_champion(resolve_studio(studio, token, tls=tls, ca=ca), deu, rollback=True)


def _set_champion(target, deu: str, *, version: int = 0, rollback: bool = False) -> None:
    """Promote ``version`` (or roll back) at ``target``'s studio and say which version is the champion now."""
    with target.session() as client:
        report = client.set_champion(deu, version, rollback=rollback)
    console.print(
        f"[green]champion[/green] {report.champion.deu} v{report.champion.version} at {target.name or target.address}"
    )


def account_command(
    month: Annotated[str, typer.Option(help="YYYY-MM (UTC; default: this month).")] = "",
    as_json: JsonOpt = False,
    studio: StudioOpt = None,
    token: TokenOpt = None,
    tls: TlsOpt = False,
    ca: CaOpt = None,
) -> None:
    """Your plan in the studio, its limits, and what you used this month (GetUsage)."""
    from rich.table import Table

    target = resolve_studio(studio, token, tls=tls, ca=ca)
    with target.session() as client:
        report = client.usage(month)
    rows = [
        {"meter": m.meter, "used": m.used, "unit": m.unit, "limit": m.limit if m.limited else None}
        for m in report.meters
    ]
    resets = report.resets.ToDatetime().strftime("%Y-%m-%dT%H:%M:%SZ")
    if as_json:
        console.print_json(json.dumps({"plan": report.plan, "month": report.month, "resets": resets, "meters": rows}))
        return
    table = Table("meter", "used", "limit", title=f"plan {report.plan}, {report.month} (resets {resets})")
    for row in rows:
        limit = "unlimited" if row["limit"] is None else f"{row['limit']:,.0f} {row['unit']}"
        table.add_row(row["meter"], f"{row['used']:,.1f} {row['unit']}", limit)
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add ``studio list|download|promote|rollback|perform|account`` to the ``amadeus`` app's ``studio`` group."""
    group = studio_group(app)
    group.command("list", rich_help_panel=PANEL)(list_command)
    group.command("download", rich_help_panel=PANEL)(download_command)
    group.command("promote", rich_help_panel=PANEL)(promote_command)
    group.command("rollback", rich_help_panel=PANEL)(rollback_command)
    group.command("perform", rich_help_panel=PANEL)(perform_command)
    group.command("account", rich_help_panel=PANEL)(account_command)
