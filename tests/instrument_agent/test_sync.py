"""Sync from a studio: newest version downloaded, verified, stored at the studio's version
number and switched to; resumes a cut download and rejects a corrupt one (the real client
against a real studio server); survives a full disk (a store-backed source, as a real tmpfs
fills)."""

from __future__ import annotations

import subprocess

import grpc
import pytest
from _agent_support import STUDIO_TOKEN as TOKEN  # noqa: E402
from _agent_support import StoreSource, install_version, interrupt_after_first_chunk  # noqa: E402
from _perform_support import make_personality  # noqa: E402

from instrument_agent.agent.state import AgentState, UnknownStudioError
from instrument_agent.client.studio_client import StudioClientError
from instrument_agent.client.sync import (
    StudioAuthError,
    StudioUnreachableError,
    SyncConflictError,
    SyncCorruptError,
    SyncDiskFullError,
    Syncer,
)
from instrument_agent.personality.store import PersonalityStore


@pytest.fixture
def studio(tmp_path):
    """A studio store (under tmp_path/home) with cello v1 and v2."""
    make_personality(tmp_path, seed=0)
    make_personality(tmp_path, seed=1)
    return PersonalityStore(tmp_path / "home")


@pytest.fixture
def agent_state(tmp_path):
    state = AgentState(tmp_path / "agent")
    state.add_studio("home", "127.0.0.1:50051", token="secret")
    return state


def test_sync_downloads_newest_verifies_and_switches(studio, agent_state):
    source = StoreSource(studio)
    seen = []
    report = Syncer(agent_state, open_client=lambda reg: source).sync(
        progress=lambda d, done, total: seen.append((done, total))
    )
    [synced] = report.deus
    assert (synced.deu, synced.version, synced.action) == ("cello", 2, "downloaded")
    assert synced.digest == studio.info("cello", 2).digest
    local = PersonalityStore(agent_state.data_path)
    assert [v.version for v in local.versions("cello")] == [2]
    assert local.get("cello", 2).digest == synced.digest  # verified on load
    current = agent_state.load().current["cello"]
    assert (current.version, current.digest, current.studio) == (2, synced.digest, "home")
    assert seen[-1][0] == seen[-1][1] > 0  # progress reached the total
    assert source.closed == 1
    assert list((agent_state.data_path / "downloads").iterdir()) == []  # nothing left behind
    again = Syncer(agent_state, open_client=lambda reg: source).sync()
    assert [d.action for d in again.deus] == ["up-to-date"]
    assert again.changed == []


def test_older_versions_are_kept(tmp_path, studio, agent_state):
    syncer = Syncer(agent_state, open_client=lambda reg: StoreSource(studio))
    syncer.sync()
    make_personality(tmp_path, seed=2)  # the studio practises v3
    report = syncer.sync("cello")
    assert report.deus[0].version == 3
    local = PersonalityStore(agent_state.data_path)
    assert [v.version for v in local.versions("cello")] == [2, 3]
    local.get("cello", 2)
    assert agent_state.load().current["cello"].version == 3


def test_cut_download_resumes_from_where_it_stopped(tmp_path, real_studio, agent_state):
    store, start = real_studio
    big = install_version(store, make_personality(tmp_path, seed=1, reverb_seconds=20.0))
    server = start()
    agent_state.remove_studio("home")
    agent_state.add_studio("home", server.address, token=TOKEN)
    syncer = Syncer(agent_state)
    with pytest.raises(KeyboardInterrupt):
        syncer.sync(progress=interrupt_after_first_chunk)
    [part] = (agent_state.data_path / "downloads").glob("*.tar.part")
    kept = part.stat().st_size
    assert kept == 1 << 20  # the studio's first chunk, whole
    assert "cello" not in agent_state.load().current
    seen = []
    report = syncer.sync(progress=lambda deu, done, total: seen.append((done, total)))
    [synced] = report.deus
    assert (synced.version, synced.action, synced.resumed_from) == (big.version, "downloaded", kept)
    assert synced.bytes_downloaded == seen[-1][1] - kept  # the rest only was asked for
    assert seen[0][0] == seen[0][1]  # its one chunk completed the archive
    assert not part.exists()
    assert PersonalityStore(agent_state.data_path).get("cello", big.version).digest == big.digest


def test_corrupt_download_is_rejected_and_current_kept(tmp_path, real_studio, agent_state):
    """The kept part of a cut download is damaged on disk (one byte flipped): the resumed
    archive fails the studio's sha256, is discarded, and the current personality stays."""
    store, start = real_studio
    server = start()
    agent_state.remove_studio("home")
    agent_state.add_studio("home", server.address, token=TOKEN)
    syncer = Syncer(agent_state)
    syncer.sync()
    big = install_version(store, make_personality(tmp_path, seed=3, reverb_seconds=20.0))
    with pytest.raises(KeyboardInterrupt):
        syncer.sync(progress=interrupt_after_first_chunk)
    [part] = (agent_state.data_path / "downloads").glob("*.tar.part")
    data = bytearray(part.read_bytes())
    data[len(data) // 2] ^= 0xFF
    part.write_bytes(bytes(data))
    with pytest.raises(SyncCorruptError, match="corrupt"):
        syncer.sync()
    assert agent_state.load().current["cello"].version == 1
    assert [v.version for v in PersonalityStore(agent_state.data_path).versions("cello")] == [1]
    assert list((agent_state.data_path / "downloads").iterdir()) == []  # the bad archive is gone
    assert syncer.sync().deus[0].version == big.version  # and the next sync downloads it whole


def test_unreachable_and_refused_token_give_clear_errors(studio, agent_state):
    class Down(StoreSource):
        def list_personalities(self, deu=""):
            raise StudioClientError(
                "studio: UNAVAILABLE: failed to connect to all addresses", grpc.StatusCode.UNAVAILABLE
            )

    with pytest.raises(StudioUnreachableError, match=r"studio 'home' at 127.0.0.1:50051 does not answer"):
        Syncer(agent_state, open_client=lambda reg: Down(studio)).sync()

    class Refusing(StoreSource):
        def list_personalities(self, deu=""):
            raise StudioClientError("studio: UNAUTHENTICATED: invalid token", grpc.StatusCode.UNAUTHENTICATED)

    with pytest.raises(StudioAuthError, match="refused the token"):
        Syncer(agent_state, open_client=lambda reg: Refusing(studio)).sync()


def test_no_studio_selected(tmp_path, studio):
    with pytest.raises(UnknownStudioError, match="amadeus studios add"):
        Syncer(AgentState(tmp_path / "empty"), open_client=lambda reg: StoreSource(studio)).sync()


def test_same_store_is_switched_without_download(studio, tmp_path):
    """Embedded: agent and studio share one store, so sync only switches."""
    state = AgentState(tmp_path / "home")
    state.add_studio("local", "127.0.0.1:50051")
    source = StoreSource(studio)
    report = Syncer(state, open_client=lambda reg: source).sync()
    assert [d.action for d in report.deus] == ["switched"]
    assert source.offsets == []
    assert state.load().current["cello"].version == 2


def test_conflicting_local_version_is_refused(tmp_path, studio, agent_state):
    other = tmp_path / "other"
    other.mkdir()
    make_personality(other, seed=9)  # a different cello v1 ...
    make_personality(other, seed=8)  # ... and v2 in the agent's store
    local = PersonalityStore(other / "home")
    agent_state.set_data_path(other / "home")
    assert local.info("cello", 2).digest != studio.info("cello", 2).digest
    with pytest.raises(SyncConflictError, match="different content"):
        Syncer(agent_state, open_client=lambda reg: StoreSource(studio)).sync()


@pytest.fixture
def tiny_disk(tmp_path):
    """A real 32 KiB tmpfs (needs root, as in CI); yields (mount point, resize function)."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=32k", "tmpfs", str(mount)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here (not root): no real full disk to test with")

    def resize(kib: int) -> None:
        subprocess.run(["mount", "-o", f"remount,size={kib}k", str(mount)], check=True)

    try:
        yield mount, resize
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_full_disk_keeps_partial_download_and_current(studio, agent_state, tiny_disk):
    mount, resize = tiny_disk
    source = StoreSource(studio, chunk_size=4096)
    size = source.get_personality("cello", 2).packed_size
    assert size > 32 * 1024, "the test bundle must not fit on the tiny disk"
    agent_state.set_data_path(mount)
    with pytest.raises(SyncDiskFullError, match="disk full after"):
        Syncer(agent_state, open_client=lambda reg: source).sync()
    assert "cello" not in agent_state.load().current
    [part] = (mount / "downloads").glob("*.tar.part")
    kept = part.stat().st_size
    assert 0 < kept < size
    resize(4 * (size // 1024) + 256)  # room for the archive, its unpacked copy and the stored bundle
    report = Syncer(agent_state, open_client=lambda reg: source).sync()
    assert report.deus[0].resumed_from == kept
    PersonalityStore(mount).get("cello", 2)
    assert agent_state.load().current["cello"].version == 2
