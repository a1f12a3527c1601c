"""The option and argument types more than one command takes, declared once.

Use them as parameter annotations: ``def download(deu: DeuArg, version: VersionOpt = None)``.
Only typer at import time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

__all__ = [
    "BlockSizeOpt",
    "CaOpt",
    "DeuArg",
    "DeuOpt",
    "HomeOpt",
    "JsonOpt",
    "SampleRateOpt",
    "StudioOpt",
    "TlsOpt",
    "TokenOpt",
    "VersionOpt",
]

DeuArg = Annotated[str, typer.Argument(help="The deu (instrument), by name.", show_default=False)]
DeuOpt = Annotated[str, typer.Option("--deu", "-d", help="The deu (instrument), by name.", show_default=False)]
VersionOpt = Annotated[
    Optional[int],
    typer.Option(
        "--version",
        "-v",
        help="Personality version number (default: the champion if one was promoted, else the latest).",
        show_default=False,
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
HomeOpt = Annotated[
    Optional[Path],
    typer.Option("--home", help="The Amadeus home (default: $AMADEUS_HOME, else your user data directory)."),
]
SampleRateOpt = Annotated[
    Optional[int], typer.Option("--sample-rate", help="Output sample rate, 16000..48000 Hz (default: 48000).")
]
BlockSizeOpt = Annotated[
    Optional[int],
    typer.Option(
        "--block-size",
        help="Samples per audio block, 32..2048: smaller means less latency (live default: 256). "
        "Offline output does not depend on it.",
    ),
]

# Which studio a client command talks to (resolved by :func:`instrument_agent.cli.studios.resolve_studio`).
StudioOpt = Annotated[
    Optional[str],
    typer.Option(
        "--studio",
        envvar="AMADEUS_STUDIO",
        help="A registered studio's name or a HOST:PORT (default: the selected studio, else localhost:50051).",
        show_default=False,
    ),
]
TokenOpt = Annotated[
    Optional[str],
    typer.Option(
        "--token",
        envvar=["AMADEUS_STUDIO_TOKEN", "AMADEUS_TOKEN"],
        help="Your ama's bearer token for a hosted studio (default: the registered studio's).",
        show_default=False,
    ),
]
TlsOpt = Annotated[bool, typer.Option("--tls", help="Connect with TLS (implied by --ca).")]
CaOpt = Annotated[
    Optional[Path],
    typer.Option("--ca", "--root-cert", help="PEM CA bundle of a TLS studio with a private CA (implies --tls)."),
]
