"""The ``amadeus`` app as built: one ``studio`` group shared by the agent and the studio, the
agent's commands without plugins, and the one drawing of a personalities table."""

from __future__ import annotations

import pytest
import typer
from rich.console import Console

from instrument_agent.cli.app import app, build_app
from instrument_agent.cli.personalities import personalities_table
from instrument_agent.personality.store import VersionInfo
from instrument_agent.proto import studio_pb2

CLIENT = {
    "account",
    "add",
    "download",
    "list",
    "perform",
    "practice",
    "promote",
    "remove",
    "rollback",
    "select",
    "studios",
    "watch",
}


def _tree(typer_app: typer.Typer) -> dict:
    return typer.main.get_command(typer_app).commands


def test_one_studio_group_holds_the_client_and_the_server_commands():
    assert [group.name for group in app.registered_groups].count("studio") == 1
    commands = _tree(app)
    assert set(commands["studio"].commands) == CLIENT | {"serve", "token", "amas", "usage"}
    assert set(commands["operator"].commands) == {"run"}
    assert [group.name for group in app.registered_groups].count("priors") == 1
    assert set(commands["priors"].commands) == {"list", "build"}  # build comes with the pipelines package
    assert commands["studios"].hidden and set(commands["studios"].commands) == {"add", "list", "select", "remove"}


def test_without_plugins_the_agent_has_its_own_commands_only():
    commands = _tree(build_app(plugins=False))
    assert set(commands) == {"personalities", "play", "agent", "sync", "status", "studio", "studios", "priors"}
    assert set(commands["studio"].commands) == CLIENT
    assert set(commands["priors"].commands) == {"list"}  # the light install lists the shipped priors


def test_every_command_and_option_explains_itself():
    def leaves(command, path=()):
        for name, child in getattr(command, "commands", {}).items():
            yield from leaves(child, (*path, name)) if hasattr(child, "commands") else [((*path, name), child)]

    full = _tree(app)
    checked = [*leaves(typer.main.get_command(build_app(plugins=False)))]
    checked += [*leaves(full["studio"], ("studio",)), *leaves(full["operator"], ("operator",))]
    assert ("studio", "serve") in [path for path, _ in checked]
    for path, command in checked:
        assert (command.help or "").strip(), path
        for param in command.params:
            assert (getattr(param, "help", None) or "").strip(), (path, param.name)


def test_the_local_store_and_the_studio_rows_draw_the_same_table():
    local = VersionInfo("cello", 2, "ab" * 32, 1, "tuning", "2026-01-01T12:00:00Z")
    remote = studio_pb2.PersonalityVersion(
        deu="cello", version=2, digest="ab" * 32, parent_version=1, practice="tuning", created="2026-01-01T12:00:00Z"
    )
    first = studio_pb2.PersonalityVersion(deu="cello", version=1, digest="cd" * 32, practice="imitation")

    def draw(rows) -> str:
        console = Console(width=120, record=True)
        console.print(personalities_table(rows, "versions"))
        return console.export_text()

    assert draw([local]) == draw([remote])
    text = draw([first, remote])
    for header in ("deu", "version", "parent", "practice", "created", "digest"):
        assert header in text
    lines = [line for line in text.splitlines() if "cello" in line]
    assert [line.split("│")[1:7] for line in lines] == [
        [" cello ", " 1       ", " -      ", " imitation ", "                      ", " cdcdcdcdcdcd "],
        [" cello ", " 2       ", " 1      ", " tuning    ", " 2026-01-01T12:00:00Z ", " abababababab "],
    ]


def test_an_error_raised_because_of_a_ctrl_c_ends_as_an_interrupt(monkeypatch, capsys):
    import instrument_agent.cli.app as app_module

    def interrupted_inside_a_library() -> None:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as exc:
            raise RuntimeError("native runtime failed to load") from exc

    broken = typer.Typer()
    broken.command("interrupted")(interrupted_inside_a_library)
    broken.command("broken")(lambda: (_ for _ in ()).throw(RuntimeError("a real bug")))
    monkeypatch.setattr(app_module, "app", broken)
    assert app_module.main(["interrupted"]) == 130
    assert "interrupted" in capsys.readouterr().err
    with pytest.raises(RuntimeError, match="a real bug"):  # a plain bug still surfaces
        app_module.main(["broken"])
