"""The studio side of the ``amadeus`` command line, registered through the ``amadeus.cli``
entry point: ``amadeus studio serve | token`` (into the agent's ``studio`` group, next to its
client commands) and ``amadeus operator run``.

Only typer and rich at import time; the server, grpc and kopf load inside the commands.
"""

from __future__ import annotations

import typer

from studio_operator.operator import cli as operator_cli
from studio_operator.server import cli as server_cli

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add ``studio serve|token`` and the ``operator`` group to the ``amadeus`` app."""
    server_cli.register(app)
    operator_cli.register(app)
