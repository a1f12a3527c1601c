"""The ``amadeus`` command line: the typer app is :data:`instrument_agent.cli.app.app`, its
console entry point :func:`main`.

Importing this package builds nothing: ``main`` loads :mod:`.app` (which registers the agent's
commands and the plugins of the ``amadeus.cli`` entry points) on first use. So a plugin can
import the light helpers here (:mod:`.groups`, :mod:`.options`, :mod:`.output`) at module level
without an import circle, whichever of the two is imported first.
"""

from __future__ import annotations

import importlib
import sys

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Console entry point: load :mod:`.app` and run it.

    Loading imports the plugins (TensorFlow for a practice): a Ctrl-C that lands while they load
    ends the command like one during its work (exit 130, one line), not with a traceback, and
    one that a library swallowed is honoured at the work's next safe point
    (:mod:`instrument_agent.interrupts`).
    """
    from instrument_agent import interrupts

    restore = interrupts.install()  # a Ctrl-C something swallows still stops the work at its next safe point
    try:
        try:
            app_main = importlib.import_module("instrument_agent.cli.app").main
            interrupts.check()
        except KeyboardInterrupt:
            sys.stderr.write("interrupted: nothing was started; run the same command again\n")
            return 130
        return app_main(argv)
    finally:
        restore()
