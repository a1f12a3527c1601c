"""``amadeus studio add | studios | select | remove`` (and the old ``amadeus studios`` spelling),
and which studio a client command talks to (:func:`resolve_studio`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer

from instrument_agent.agent.state import AgentState
from instrument_agent.cli import main
from instrument_agent.cli.studios import DEFAULT_ADDRESS, StudioTarget, resolve_studio


def _listed(capsys, *argv: str) -> list[dict]:
    capsys.readouterr()
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_the_new_and_the_old_spelling_share_one_set_of_registrations(capsys):
    assert main(["studio", "add", "home", "127.0.0.1:50051", "--no-check", "--token", "t"]) == 0
    assert main(["studios", "add", "spare", "127.0.0.1:50052", "--no-check"]) == 0
    rows = _listed(capsys, "studio", "studios")
    assert rows == _listed(capsys, "studios", "list")
    assert [(r["name"], r["selected"], r["token"]) for r in rows] == [("home", True, True), ("spare", False, False)]
    assert main(["studio", "select", "spare"]) == 0
    assert AgentState().load().selected_studio == "spare"
    assert main(["studios", "remove", "spare"]) == 0
    assert main(["studio", "remove", "home"]) == 0
    assert _listed(capsys, "studio", "studios") == []
    assert main(["studio", "studios"]) == 0
    assert "amadeus studio add NAME HOST:PORT" in capsys.readouterr().out


def test_no_registration_means_the_local_default():
    assert resolve_studio(None) == StudioTarget(DEFAULT_ADDRESS)
    assert resolve_studio("studio.example.org:443", "tok", tls=True) == StudioTarget(
        "studio.example.org:443", "tok", True
    )


def test_the_selected_or_named_registration_is_used(tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    state = AgentState()
    state.add_studio("home", "127.0.0.1:50051", token="home-token")
    state.add_studio("hosted", "studio.example.org:443", tls=True, token="t", root_certificate_path=str(ca))
    assert resolve_studio(None) == StudioTarget("127.0.0.1:50051", "home-token", name="home")
    assert resolve_studio("hosted") == StudioTarget("studio.example.org:443", "t", True, Path(ca), "hosted")
    assert resolve_studio("hosted", "mine").token == "mine"  # the flag wins
    other = tmp_path / "other.pem"
    assert resolve_studio("home", ca=other) == StudioTarget("127.0.0.1:50051", "home-token", True, other, "home")
    assert resolve_studio("10.0.0.2:50051") == StudioTarget("10.0.0.2:50051")  # an address is used as given
    with pytest.raises(typer.BadParameter, match=r"'hme' is neither a registered studio \(registered: home, hosted\)"):
        resolve_studio("hme")


def test_a_misspelt_studio_is_one_line(capsys):
    assert main(["studio", "list", "--studio", "hme"]) == 2
    err = capsys.readouterr().err
    assert "'hme' is neither a registered studio" in err and "Traceback" not in err
