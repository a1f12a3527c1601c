"""Command groups shared between packages: the first to need ``amadeus studio`` creates it,
the others add their commands to the same group.

A leaf module (typer only), so a plugin's ``register(app)`` can import it while the app is
being built without importing the app itself.
"""

from __future__ import annotations

import typer

__all__ = ["STUDIO_HELP", "command_group", "studio_group"]

STUDIO_HELP = (
    "The studios you practise with: register them (add, studios, select, remove), and practise, "
    "download and perform through one. With the studio installed (amadeus\\[studio]) also serve one "
    "and make its tokens."
)


def command_group(app: typer.Typer, name: str, help: str) -> typer.Typer:
    """The sub-app registered in ``app`` as ``name``; created with ``help`` when there is none yet."""
    for info in app.registered_groups:
        if info.name == name and info.typer_instance is not None:
            return info.typer_instance
    group = typer.Typer(help=help, no_args_is_help=True)
    app.add_typer(group, name=name)
    return group


def studio_group(app: typer.Typer) -> typer.Typer:
    """The ``amadeus studio`` group: the agent's client commands and the studio's server commands share it."""
    return command_group(app, "studio", STUDIO_HELP)
