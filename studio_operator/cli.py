"""Command groups of the studio side: ``amadeus operator …`` and ``amadeus studio …``.

Registered into the ``amadeus`` app through the ``amadeus.cli`` entry point;
each subpackage contributes its own ``register(app)`` and imports its heavy
dependencies only inside the commands.
"""

from __future__ import annotations

import importlib

import typer

__all__ = ["register"]

_SUBCOMMAND_MODULES = ("studio_operator.operator.cli", "studio_operator.server.cli")


def register(app: typer.Typer) -> None:
    """Add the operator and studio server command groups to ``app``."""
    for name in _SUBCOMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name and name.startswith(exc.name):
                continue
            raise
        module.register(app)
