"""The studio plays and the agent syncs the champion, not merely the latest (a real studio server
on loopback, the real gRPC client, real personalities)."""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile
from _perform_support import make_personality

from instrument_agent.agent.state import AgentState
from instrument_agent.cli import main
from instrument_agent.client.studio_client import StudioClient
from instrument_agent.client.sync import Syncer
from instrument_agent.personality.store import PersonalityStore
from studio_operator.server import StudioConfig, StudioServer
from studio_operator.server.tenants import hash_token

TOKEN = "alice-champion-token-0123456789abcdef"


@pytest.fixture
def served(tmp_path):
    """``(alice's studio store, server, agent state)``: cello v1..v3 at the studio, the agent registered."""
    home = tmp_path / "studio"
    tokens = tmp_path / "tokens.yaml"
    tokens.write_text(f"tokens:\n  - ama: alice\n    sha256: {hash_token(TOKEN)}\n")
    store = PersonalityStore(home / "tenants" / "alice")
    for seed in range(3):
        made = make_personality(tmp_path, seed=seed)
        store.commit("cello", made.manifest, {e.path: made.path / e.path for e in made.manifest.files})
    server = StudioServer(StudioConfig(home=home, host="127.0.0.1", port=0, metrics_port=0, tokens=tokens)).start()
    state = AgentState(tmp_path / "agent")
    state.add_studio("home", server.address, token=TOKEN)
    yield store, server, state
    server.stop(grace=0.5)


def test_sync_fetches_the_champion_when_latest_is_not_it(served):
    store, _server, state = served
    store.promote("cello", 2)
    [synced] = Syncer(state).sync().deus
    assert (synced.version, synced.action) == (2, "downloaded")
    assert state.load().current["cello"].version == 2
    local = PersonalityStore(state.data_path)
    assert [v.version for v in local.versions("cello")] == [2]  # not the latest, v3
    assert local.champion("cello").version == 2 and local.default_version("cello") == 2
    assert "sync from studio home" in local.champion("cello").by
    # the studio rolls back to its earlier champion: the next sync follows it
    store.promote("cello", 3)
    store.rollback("cello")  # back to v2: the agent already plays it
    assert Syncer(state).sync().deus[0].action == "up-to-date"
    store.promote("cello", 1)
    store.promote("cello", 3)
    store.rollback("cello")  # v3 → v1
    [again] = Syncer(state).sync().deus
    assert (again.version, again.action) == (1, "downloaded")
    assert state.load().current["cello"].version == 1 and local.default_version("cello") == 1


def test_without_a_champion_sync_takes_the_latest(served):
    _store, _server, state = served
    assert Syncer(state).sync().deus[0].version == 3
    assert PersonalityStore(state.data_path).champion("cello") is None


def test_the_studio_lists_gets_and_performs_the_champion_by_default(served, tmp_path):
    store, server, _state = served
    store.promote("cello", 1)
    client = StudioClient(server.address, token=TOKEN)
    try:
        rows = client.list_personalities("cello")
        assert [(r.version, r.champion) for r in rows] == [(1, True), (2, False), (3, False)]
        info = client.get_personality("cello")  # version 0: the champion
        assert (info.version.version, info.version.champion) == (1, True)
        assert [c.version for c in client.download_personality("cello")][0] == 1
        midi = _midi(tmp_path / "n.mid")

        def perform(version):
            response = client.perform_file(midi, deu="cello", version=version, sample_rate=16000)
            return soundfile.read(io.BytesIO(response.audio))[0]

        default, v1, v3 = perform(0), perform(1), perform(3)
        assert np.array_equal(default, v1) and not np.allclose(default, v3, atol=1e-4)
    finally:
        client.close()


def test_studio_list_cli_marks_the_champion(served, capsys):
    store, server, _state = served
    store.promote("cello", 2)
    assert main(["studio", "list", "--studio", server.address, "--token", TOKEN]) == 0
    marked = [line for line in capsys.readouterr().out.splitlines() if "★" in line]
    assert len(marked) == 1 and "│ 2 ★" in marked[0]


def _midi(path):
    import mido

    track = mido.MidiTrack(
        [mido.Message("note_on", note=57, velocity=100, time=0), mido.Message("note_off", note=57, time=480)]
    )
    mid = mido.MidiFile(tracks=[track])
    mid.save(path)
    return path


def test_promote_and_rollback_through_the_studio(served, capsys):
    store, server, state = served
    where = ["--studio", server.address, "--token", TOKEN]
    assert main(["studio", "promote", "cello", "1", *where]) == 0
    assert "champion cello v1" in capsys.readouterr().out
    assert main(["studio", "promote", "cello", "3", *where]) == 0
    assert store.default_version("cello") == 3 and store.champion("cello").by == "studio: alice"
    assert Syncer(state).sync().deus[0].version == 3
    assert main(["studio", "rollback", "cello", *where]) == 0
    assert store.default_version("cello") == 1
    assert Syncer(state).sync().deus[0].version == 1  # the agent follows the studio's rollback
    assert main(["studio", "rollback", "cello", *where]) == 2
    err = capsys.readouterr().err
    assert "FAILED_PRECONDITION" in err and "no earlier champion" in err
    assert main(["studio", "promote", "cello", "9", *where]) == 2
    assert "no version 9" in capsys.readouterr().err
    client = StudioClient(server.address, token=TOKEN)
    try:
        report = client.set_champion("cello", 2)
        assert (report.champion.version, report.champion.champion) == (2, True)
        assert [(e.action, e.version) for e in report.history] == [
            ("promote", 1),
            ("promote", 3),
            ("rollback", 1),
            ("promote", 2),
        ]
        with pytest.raises(Exception, match="not both"):
            client.set_champion("cello", 2, rollback=True)
    finally:
        client.close()
