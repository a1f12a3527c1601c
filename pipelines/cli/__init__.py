"""The ``amadeus`` commands of the pipelines package (registered through the ``amadeus.cli``
entry point ``pipelines.cli:register``):

* ``amadeus practice imitation|tuning|feedback`` (:mod:`.practice`);
* ``amadeus pipelines compile`` (:mod:`.compile`);
* ``amadeus demo`` (:mod:`.demo`);
* ``amadeus registry promote|rollback|champion`` (:mod:`.registry`).

Only typer and rich at import time; TensorFlow, KFP and librosa load when a command runs.
"""

from __future__ import annotations

import typer

from .compile import pipelines_app
from .demo import demo
from .practice import practice_app
from .registry import registry_app

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add ``practice``, ``pipelines compile``, ``demo`` and ``registry`` to the ``amadeus`` app."""
    app.add_typer(practice_app, name="practice")
    app.add_typer(pipelines_app, name="pipelines")
    app.command("demo")(demo)
    app.add_typer(registry_app, name="registry")
