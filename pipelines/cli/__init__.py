"""The ``amadeus`` commands of the pipelines package (registered through the ``amadeus.cli``
entry point ``pipelines.cli:register``):

* ``amadeus practice imitation|tuning|feedback`` (:mod:`.practice`);
* ``amadeus pipelines compile`` (:mod:`.compile`);
* ``amadeus demo`` (:mod:`.demo`);
* ``amadeus registry promote|rollback|champion`` (:mod:`.registry`).
* ``amadeus priors build`` (:mod:`.priors`; ``priors list`` is the agent's);
* the ``ddsp-vst`` format of ``amadeus personalities export`` (:mod:`.export_formats`).

Only typer and rich at import time; TensorFlow, KFP and librosa load when a command runs.
"""

from __future__ import annotations

import typer

from instrument_agent.cli.exports import register_export_format
from instrument_agent.cli.groups import command_group
from instrument_agent.cli.priors import PRIORS_HELP

from .compile import pipelines_app
from .demo import demo
from .export_formats import DDSP_VST
from .practice import practice_app
from .priors import build as build_priors
from .registry import registry_app

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add ``practice``, ``pipelines compile``, ``demo``, ``registry``, ``priors build`` and the
    ``ddsp-vst`` export format to the ``amadeus`` app."""
    register_export_format(DDSP_VST)
    app.add_typer(practice_app, name="practice")
    app.add_typer(pipelines_app, name="pipelines")
    app.command("demo")(demo)
    app.add_typer(registry_app, name="registry")
    command_group(app, "priors", PRIORS_HELP).command("build")(build_priors)
