"""amadeus studios / sync / status from the command line (real CLI, real studio source edge)."""

from __future__ import annotations

import pytest
from _agent_support import StoreSource  # noqa: E402
from _perform_support import make_personality  # noqa: E402

from instrument_agent.agent.state import AgentState  # noqa: E402
from instrument_agent.cli import main  # noqa: E402
from instrument_agent.personality.store import PersonalityStore  # noqa: E402


def test_studios_add_list_select_remove(amadeus_home, capsys):
    assert main(["studios", "add", "home", "127.0.0.1:50051", "--no-check", "--token", "t"]) == 0
    assert main(["studios", "add", "spare", "127.0.0.1:50052", "--no-check"]) == 0
    assert main(["studios", "list", "--json"]) == 0
    out = capsys.readouterr().out
    assert '"selected": true' in out and '"token": true' in out and '"t"' not in out
    assert main(["studios", "select", "spare"]) == 0
    assert AgentState().load().selected_studio == "spare"
    assert main(["studios", "remove", "spare"]) == 0
    assert AgentState().load().selected_studio == "home"
    assert main(["studios", "select", "nope"]) == 2
    assert "no studio named 'nope'" in capsys.readouterr().err


def test_bad_address_and_unreachable_studio(capsys):
    assert main(["studios", "add", "home", "localhost"]) == 2
    assert "is not host:port" in capsys.readouterr().err
    assert main(["studios", "add", "home", "127.0.0.1:9"]) == 2  # --check: nothing listens on port 9
    err = capsys.readouterr().err
    assert "does not answer" in err
    assert AgentState().load().studios == []  # not registered


def test_sync_and_status(tmp_path, monkeypatch, capsys):
    make_personality(tmp_path, seed=0)
    source = StoreSource(PersonalityStore(tmp_path / "home"))
    monkeypatch.setattr("instrument_agent.client.sync.open_studio", lambda registration, **kw: source)
    assert main(["studios", "add", "home", "127.0.0.1:50051", "--no-check"]) == 0
    assert main(["sync"]) == 0
    assert "cello v1: downloaded" in capsys.readouterr().out
    assert main(["sync"]) == 0
    assert "cello v1: up-to-date" in capsys.readouterr().out
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert "not running" in out and "cello v1" in out and "from home" in out


@pytest.fixture(autouse=True)
def _no_agent_running(monkeypatch):
    monkeypatch.setattr("instrument_agent.cli.agent._running_agent_status", lambda port: None)


def test_agent_follow_practice_without_a_studio_says_what_to_do(amadeus_home, capsys):
    code = main(["agent", "--no-audio", "--no-midi", "--ui-port", "0", "--follow-practice", "abc123"])
    assert code == 2
    err = capsys.readouterr().err
    assert "--follow-practice abc123: no studio is selected" in " ".join(err.split())
