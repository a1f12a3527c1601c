"""The ``amadeus`` command line: the typer app is :data:`instrument_agent.cli.app.app`, its
console entry point :func:`main`.

Importing this package builds nothing: ``main`` loads :mod:`.app` (which registers the agent's
commands and the plugins of the ``amadeus.cli`` entry points) on first use. So a plugin can
import the light helpers here (:mod:`.groups`, :mod:`.options`, :mod:`.output`) at module level
without an import circle, whichever of the two is imported first.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from instrument_agent.cli.app import main

__all__ = ["main"]


def __getattr__(name: str) -> Any:
    if name != "main":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return importlib.import_module("instrument_agent.cli.app").main
