"""``amadeus personalities compare DEU A B``: hear and measure two versions on the same phrase."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table

from instrument_agent.cli.options import DeuArg, JsonOpt, SampleRateOpt
from instrument_agent.cli.output import console, err_console

__all__ = ["compare_command"]

_VERSION_HELP = "A version number, 'champion' or 'latest'."


def compare_command(
    deu: DeuArg,
    a: Annotated[str, typer.Argument(help=f"Version A. {_VERSION_HELP}", show_default=False)],
    b: Annotated[str, typer.Argument(help=f"Version B. {_VERSION_HELP}", show_default=False)],
    midi: Annotated[
        Optional[Path], typer.Option("--midi", help="Compare on this MIDI file (default: the bundled demo phrase).")
    ] = None,
    audio: Annotated[
        Optional[Path],
        typer.Option("--audio", help="Compare on this recording: timbre transfer of its pitch and loudness."),
    ] = None,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Folder for the two WAVs and the spectrogram PNG.")
    ] = Path("."),
    sample_rate: SampleRateOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Render the same phrase with versions A and B of the deu and report how they differ.

    Writes DEU-vA.wav, DEU-vB.wav and DEU-vA-vB.png: their spectrograms side by side, A left, on one dB scale.

    Prints the multi-scale spectral distance (0: the same sound), the centroids and the A-weighted and RMS levels."""
    from instrument_agent.compare import compare_versions, parse_version
    from instrument_agent.personality.store import PersonalityStore

    store = PersonalityStore()
    va, vb = parse_version(store, deu, a), parse_version(store, deu, b)
    result = compare_versions(
        store,
        deu,
        va,
        vb,
        output,
        midi=midi,
        audio=audio,
        sample_rate=sample_rate or 48000,
        show_progress=err_console.is_terminal,
    )
    c = result.comparison
    if as_json:
        files = {"wav_a": str(result.wav_a), "wav_b": str(result.wav_b), "png": str(result.png)}
        console.print_json(json.dumps({"deu": deu, "a": va, "b": vb, **c.to_dict(), **files}))
        return
    table = Table(title=f"{escape(deu)}: v{va} (A) against v{vb} (B)")
    for column, justify in (("measure", "left"), ("A", "right"), ("B", "right"), ("B − A", "right")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    table.add_row("multi-scale spectral distance", "", "", f"{c.spectral_distance:.3f}")
    for name, value_a, value_b, delta in c.rows():
        table.add_row(name, f"{value_a:.1f}", f"{value_b:.1f}", f"{delta:+.1f}")
    console.print(table)
    console.print(f"wrote {result.wav_a}, {result.wav_b} and {result.png}")
