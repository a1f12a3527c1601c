"""The agent state file: defaults, studios, current personalities, settings, atomic writes."""

from __future__ import annotations

import errno
import os
import threading

import pytest

from instrument_agent.agent.state import (
    AgentState,
    AgentStateError,
    InvalidStudioError,
    StateDiskFullError,
    StateFileCorruptError,
    StudioExistsError,
    UnknownStudioError,
)
from instrument_agent.proto import instrument_pb2


def test_fresh_state_has_defaults_and_no_file(tmp_path):
    state = AgentState(tmp_path)
    loaded = state.load()
    assert loaded.schema_version == 1
    assert loaded.settings.sample_rate == 48000
    assert loaded.settings.block_size == 128
    assert loaded.settings.ui_port == 8765
    assert not state.path.exists()
    assert state.data_path == tmp_path


def test_studios_add_select_remove_roundtrip_through_the_file(tmp_path):
    state = AgentState(tmp_path)
    state.add_studio("home", "localhost:50051", token="t1")
    state.add_studio("hosted", "studio.example.com:443", tls=True, token="t2")
    raw = instrument_pb2.InstrumentState()
    raw.ParseFromString((tmp_path / "state.pb").read_bytes())
    assert [s.name for s in raw.studios] == ["home", "hosted"]
    assert raw.selected_studio == "home"  # the first one is selected
    assert raw.studios[1].tls and raw.studios[1].token == "t2"
    state.select_studio("hosted")
    assert state.studio().address == "studio.example.com:443"
    state.remove_studio("hosted")
    assert state.load().selected_studio == "home"
    state.remove_studio("home")
    assert state.load().selected_studio == ""
    with pytest.raises(UnknownStudioError, match="no studio is selected"):
        state.studio()


@pytest.mark.parametrize("address", ["localhost", "localhost:0", "localhost:70000", "http://x:1", ""])
def test_bad_addresses_are_rejected_and_nothing_is_written(tmp_path, address):
    state = AgentState(tmp_path)
    with pytest.raises(InvalidStudioError, match="host:port"):
        state.add_studio("home", address)
    assert not state.path.exists()


def test_duplicate_unknown_and_invalid_names(tmp_path):
    state = AgentState(tmp_path)
    state.add_studio("home", "127.0.0.1:1")
    with pytest.raises(StudioExistsError):
        state.add_studio("home", "127.0.0.1:2")
    with pytest.raises(UnknownStudioError, match="registered: home"):
        state.select_studio("nope")
    with pytest.raises(UnknownStudioError):
        state.remove_studio("nope")
    with pytest.raises(InvalidStudioError, match="name"):
        state.add_studio("bad name/", "127.0.0.1:1")
    with pytest.raises(InvalidStudioError, match="--tls"):
        state.add_studio("x", "127.0.0.1:1", root_certificate_path="/etc/hostname")
    assert [s.name for s in state.load().studios] == ["home"]


def test_current_personality_and_selected_deu(tmp_path):
    state = AgentState(tmp_path)
    state.set_current("cello", 3, "ab" * 32, "home")
    state.set_current("flute", 1, "cd" * 32)
    loaded = state.load()
    assert loaded.current["cello"].version == 3
    assert loaded.current["cello"].studio == "home"
    assert loaded.current["cello"].synced.seconds > 0
    assert loaded.selected_deu == "cello"  # the first one played becomes the selected deu
    state.select_deu("flute")
    assert state.load().selected_deu == "flute"


def test_settings_are_validated(tmp_path):
    state = AgentState(tmp_path)
    state.update_settings(block_size=256, sync_interval_s="30", audio_device="USB")
    settings = state.load().settings
    assert (settings.block_size, settings.sync_interval_s, settings.audio_device) == (256, 30, "USB")
    with pytest.raises(AgentStateError, match="block_size=4 is out of range"):
        state.update_settings(block_size=4)
    with pytest.raises(AgentStateError, match="unknown setting"):
        state.update_settings(volume=3)
    with pytest.raises(AgentStateError, match="whole number"):
        state.update_settings(sample_rate="fast")
    assert state.load().settings.block_size == 256


def test_data_path_must_be_writable(tmp_path):
    state = AgentState(tmp_path / "home")
    state.set_data_path(tmp_path / "data")
    assert state.data_path == (tmp_path / "data").resolve()
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(AgentStateError, match="not a writable directory"):
        state.set_data_path(blocker / "sub")


def test_corrupt_state_file_names_the_file(tmp_path):
    (tmp_path / "state.pb").write_bytes(b"\xff\xff\xff garbage")
    with pytest.raises(StateFileCorruptError, match="state.pb"):
        AgentState(tmp_path).load()


def test_full_disk_keeps_the_previous_state(tmp_path, monkeypatch):
    state = AgentState(tmp_path)
    state.add_studio("home", "127.0.0.1:1")
    before = state.path.read_bytes()
    real_fsync = os.fsync

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(StateDiskFullError, match="disk full"):
        state.add_studio("other", "127.0.0.1:2")
    monkeypatch.setattr(os, "fsync", real_fsync)
    assert state.path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".state.pb.")] == []


def test_concurrent_edits_are_not_lost(tmp_path):
    errors = []

    def add(i):
        try:
            AgentState(tmp_path).add_studio(f"s{i}", f"127.0.0.1:{1000 + i}")
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=add, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(s.name for s in AgentState(tmp_path).load().studios) == sorted(f"s{i}" for i in range(8))
