"""The ``amadeus`` command line (:mod:`.app`): the agent's commands, and the command groups
that the heavier packages contribute through the ``amadeus.cli`` entry points."""

from instrument_agent.cli.app import app, main

__all__ = ["app", "main"]
