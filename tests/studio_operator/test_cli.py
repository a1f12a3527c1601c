"""``studio_operator.cli.register``: the studio's commands join the agent's ``studio`` group
whichever registers first, and ``operator run`` gets its own group."""

from __future__ import annotations

import typer

from instrument_agent.cli import studio as agent_studio
from studio_operator.cli import register


def _commands(app: typer.Typer) -> dict:
    return typer.main.get_command(app).commands


def test_the_studio_joins_the_agent_studio_group():
    app = typer.Typer()
    agent_studio.register(app)
    register(app)
    assert [group.name for group in app.registered_groups] == ["studio", "operator"]
    assert set(_commands(app)["studio"].commands) == {
        "list",
        "download",
        "perform",
        "promote",
        "rollback",
        "account",
        "serve",
        "token",
        "amas",
        "usage",
    }


def test_registered_alone_the_studio_makes_the_group():
    app = typer.Typer()
    register(app)
    agent_studio.register(app)  # a later agent module finds it
    assert [group.name for group in app.registered_groups] == ["studio", "operator"]
    assert set(_commands(app)["studio"].commands) == {
        "serve",
        "token",
        "amas",
        "usage",
        "list",
        "download",
        "perform",
        "promote",
        "rollback",
        "account",
    }
    assert set(_commands(app)["operator"].commands) == {"run"}
