"""``amadeus personalities import``: a personality from one verified file (written by ``export``, :mod:`.exports`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape

from instrument_agent.cli.output import console

__all__ = ["import_command"]


def import_command(
    file: Annotated[Path, typer.Argument(help="A .amadeus file written by `export`.", show_default=False)],
    as_deu: Annotated[
        Optional[str], typer.Option("--as", help="Import into this deu (default: the exported deu's name).")
    ] = None,
) -> None:
    """Verify a .amadeus file and add its personality to the local store.

    A tampered, truncated or path-traversing file is refused (exit 2) and the store is left unchanged.

    Into a deu without that version number it is restored as it was (same digest).

    Otherwise it is appended as the next version, recording the original deu, version and digest.

    The champion is not changed: promote the imported version to play it by default."""
    from instrument_agent.personality.portable import import_portable
    from instrument_agent.personality.store import PersonalityStore

    result = import_portable(PersonalityStore(), file, as_deu=as_deu)
    bundle, header = result.bundle, result.header
    origin = f"{header.deu} v{header.version} {header.digest[:12]}"
    words = {
        "restored": f"restored {origin}",
        "appended": f"appended as {bundle.deu} v{bundle.version} {bundle.digest[:12]} (from {origin})",
        "already-there": f"{origin} is already in the store; nothing changed",
    }
    console.print(f"[green]{result.action}[/green] {escape(words[result.action])}")
    if result.action != "already-there":
        console.print(f"play it by default with: amadeus personalities promote {bundle.deu} {bundle.version}")
