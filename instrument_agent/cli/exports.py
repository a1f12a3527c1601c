"""``amadeus personalities export DEU --format F``: a personality as a file to share, back up or play elsewhere.

Formats register here (:func:`register_export_format`). The agent's own: ``amadeus`` (the default:
the portable, verified single-file personality with its lineage that ``personalities import`` reads)
and ``onnx`` (the decoder for onnxruntime, no TensorFlow). The heavier packages contribute theirs
through their ``amadeus.cli`` plugin: ``ddsp-vst`` from ``pipelines.cli``, a ``.tflite`` for
Magenta's DDSP-VST, which needs TensorFlow. A format listed in :data:`KNOWN_FORMATS` whose package
is not installed is refused with the install that brings it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.markup import escape

from instrument_agent.cli.options import DeuArg, VersionOpt
from instrument_agent.cli.output import console, err_console

__all__ = [
    "EXPORT_FORMATS",
    "KNOWN_FORMATS",
    "ExportFormat",
    "ExportFormatUnavailable",
    "ExportReport",
    "export",
    "register_export_format",
]


class ExportFormatUnavailable(ValueError):
    """A format whose runtime dependencies are not installed here; says what to install."""


@dataclass(frozen=True)
class ExportReport:
    """What an export wrote: the file and lines to show the ama (figures, where the host finds it)."""

    path: Path
    lines: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ExportFormat:
    """``run(bundle, output or None) -> ExportReport``; ``None`` means the format's default place."""

    name: str
    summary: str
    run: Callable[[object, Optional[Path]], ExportReport]


EXPORT_FORMATS: dict[str, ExportFormat] = {}
KNOWN_FORMATS = {
    "onnx": "amadeus[onnx] (pip install 'amadeus[onnx]')",
    "ddsp-vst": "the studio install with TensorFlow (pip install 'amadeus[studio]')",
}
"""Every format this project has, and the install that brings each one."""


def register_export_format(fmt: ExportFormat) -> None:
    """Make ``--format fmt.name`` available (a plugin calls this from its ``register(app)``)."""
    EXPORT_FORMATS[fmt.name] = fmt


def export(
    deu: DeuArg,
    version: VersionOpt = None,
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            help="amadeus (default): the whole personality as one verified file with its lineage, for "
            "`amadeus personalities import` (default -o: ./<deu>-v<N>.amadeus). "
            "onnx: the decoder as ONNX (onnxruntime, any language). ddsp-vst: a .tflite for Magenta's "
            "DDSP-VST plugin, written by default into ~/Documents/Magenta/DDSP/Models/Amadeus/ where the "
            "plugin finds it (16 kHz, 50 frames/s, <= 60 harmonics, 65 noise bands, GRU <= 512).",
        ),
    ] = "amadeus",
    output: Annotated[
        Optional[Path], typer.Option("--output", "-o", help="File to write (default: the format's own place).")
    ] = None,
) -> None:
    """Export one version of the deu (default: the champion, else the latest); the local store is not changed."""
    from instrument_agent.personality.store import PersonalityStore

    chosen = EXPORT_FORMATS.get(fmt)
    if chosen is None:
        if fmt in KNOWN_FORMATS:
            err_console.print(f"[red]error:[/red] --format {fmt} needs {KNOWN_FORMATS[fmt]}")
        else:
            choices = ", ".join(sorted(set(KNOWN_FORMATS) | set(EXPORT_FORMATS)))
            err_console.print(f"[red]error:[/red] unknown --format {escape(fmt)!r} (choose {choices})")
        raise typer.Exit(2)
    store = PersonalityStore()
    bundle = store.get(deu, store.resolve(deu, version))
    with console.status(f"Exporting {escape(deu)} v{bundle.version} as {fmt}…"):
        report = chosen.run(bundle, output)
    console.print(f"[green]wrote[/green] {escape(str(report.path))} ({fmt}, {escape(deu)} v{bundle.version})")
    for line in report.lines:
        console.print(f"  {line}")


def _amadeus(bundle: Any, output: Optional[Path]) -> ExportReport:
    """The portable personality (``<deu>-v<N>.amadeus`` in the current directory by default)."""
    from instrument_agent.personality.portable import export_portable
    from instrument_agent.personality.store import PersonalityStore

    out = output or Path(f"{bundle.deu}-v{bundle.version}.amadeus")
    header = export_portable(PersonalityStore(), bundle.deu, bundle.version, out)
    champion = ", the champion" if header.champion else ""
    return ExportReport(
        out,
        [
            f"{header.digest[:12]}{champion}, lineage of {len(header.lineage)}, {out.stat().st_size} bytes; "
            f"`amadeus personalities import {out.name}` on any machine verifies it and adds it"
        ],
    )


def _onnx(bundle: Any, output: Optional[Path]) -> ExportReport:
    """The decoder as ONNX (``<deu>-v<N>.onnx`` in the current directory by default), written atomically."""
    from instrument_agent.decoder import decoder_onnx
    from instrument_agent.personality.atomic import atomic_write
    from instrument_agent.profiles import resolve_learner_profile

    learner = resolve_learner_profile(bundle.manifest.learner_profile)
    out = output or Path(f"{bundle.deu}-v{bundle.version}.onnx")
    data = decoder_onnx(bundle.file("decoder.npz"), learner.n_harmonics)
    atomic_write(out, data)
    h, n = learner.n_harmonics, learner.n_noise_bands
    return ExportReport(
        out,
        [
            f"one control frame at {learner.frame_rate}/s: f0_hz [V, 1] Hz, loudness_db [V, 1] dB (A-weighted), "
            f"state [V, {learner.gru_units}] -> controls [V, {1 + h + n}] "
            f"(amplitude | {h} harmonics | {n} noise bands), state_next",
        ],
    )


register_export_format(ExportFormat("amadeus", "the portable personality, for `personalities import`", _amadeus))
register_export_format(ExportFormat("onnx", "the decoder as ONNX", _onnx))
