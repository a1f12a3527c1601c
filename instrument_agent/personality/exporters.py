"""The export formats of ``amadeus personalities export --format NAME``: a small registry.

An exporter writes one version of a deu from a store to a file and returns a one-line summary.
``amadeus`` (the default) is the portable, verified single-file personality
(:mod:`instrument_agent.personality.portable`); other formats (an ONNX decoder, a DDSP-VST
model) register themselves with :func:`register_exporter` from the module that implements them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from instrument_agent.personality.errors import PersonalityError
from instrument_agent.personality.store import PersonalityStore

__all__ = ["EXPORTERS", "Exporter", "UnknownExportFormatError", "export", "register_exporter"]


class Exporter(Protocol):
    """Writes ``deu`` at ``version`` (None: the champion, else the latest) from ``store`` to ``out_path``.

    Returns a one-line summary for the terminal. Raises a :class:`PersonalityError` naming the
    constraint when the personality does not fit the format; ``out_path`` is then untouched.
    """

    def __call__(self, store: PersonalityStore, deu: str, version: int | None, out_path: Path) -> str: ...


class UnknownExportFormatError(PersonalityError, ValueError):
    """``--format`` names no registered exporter."""


def _amadeus(store: PersonalityStore, deu: str, version: int | None, out_path: Path) -> str:
    from instrument_agent.personality.portable import export_portable

    header = export_portable(store, deu, version, out_path)
    champion = ", the champion" if header.champion else ""
    return (
        f"{header.deu} v{header.version}{champion} ({header.digest[:12]}, lineage of {len(header.lineage)}) "
        f"→ {out_path} ({out_path.stat().st_size} bytes)"
    )


EXPORTERS: dict[str, Exporter] = {"amadeus": _amadeus}
"""Format name → exporter. ``amadeus`` is the default."""


def register_exporter(name: str, exporter: Exporter) -> None:
    """Add (or replace) the exporter ``--format name`` runs."""
    EXPORTERS[name] = exporter


def export(store: PersonalityStore, deu: str, version: int | None, out_path: str | Path, fmt: str = "amadeus") -> str:
    """Run the exporter of ``fmt``; raises :class:`UnknownExportFormatError` listing the known formats."""
    exporter = EXPORTERS.get(fmt)
    if exporter is None:
        raise UnknownExportFormatError(f"export format {fmt!r} is not known (known: {', '.join(sorted(EXPORTERS))})")
    return exporter(store, deu, version, Path(out_path))
