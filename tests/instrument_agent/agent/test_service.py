"""The agent service: offline first, background retry, sync + hot swap, practices followed."""

from __future__ import annotations

import time

import grpc
import numpy as np
import pytest
import soundfile
from _agent_support import STUDIO_TOKEN, PracticingStudio, StoreSource, install_version, interrupt_after_first_chunk  # noqa: E402
from _perform_support import make_personality  # noqa: E402

from instrument_agent.agent import Agent  # noqa: E402
from instrument_agent.client.studio_client import StudioClientError  # noqa: E402
from instrument_agent.client.sync import StudioUnreachableError, SyncCorruptError  # noqa: E402
from instrument_agent.personality.store import PersonalityStore  # noqa: E402


def _wait(predicate, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


class Switchable:
    """Opens the studio's source while ``up``; otherwise the studio does not answer."""

    def __init__(self, source):
        self.source = source
        self.up = True
        self.opened = 0

    def __call__(self, registration):
        self.opened += 1
        if not self.up:
            raise StudioClientError(
                "studio: UNAVAILABLE: failed to connect to all addresses", grpc.StatusCode.UNAVAILABLE
            )
        return self.source


@pytest.fixture
def studio(tmp_path):
    make_personality(tmp_path, seed=0)
    return PersonalityStore(tmp_path / "home")


def _agent(tmp_path, opener, **kwargs) -> Agent:
    agent = Agent(
        tmp_path / "agent", open_client=opener, audio=False, midi=False, backend="numpy", sample_rate=16000, **kwargs
    )
    if not agent.state.load().studios:
        agent.state.add_studio("home", "127.0.0.1:50051", token="t")
        agent.state.update_settings(sync_interval_s=3600)
    return agent


def test_offline_first_keeps_playing_and_retries_in_the_background(tmp_path, studio):
    opener = Switchable(StoreSource(studio))
    agent = _agent(tmp_path, opener)
    agent.sync_now()  # v1 synced while online
    opener.up = False
    make_personality(tmp_path, seed=1)  # the studio has v2, but is unreachable
    restarted = _agent(tmp_path, opener)  # a fresh agent on the same home
    restarted.start()
    try:
        assert restarted.player.playing.version == 1  # plays the last synced personality without the network
        assert _wait(lambda: restarted.online is False)
        status = restarted.status()
        assert status["connection"].startswith("offline: playing the last synced personality")
        assert "does not answer" in status["error"]
        first_failures = restarted.failures
        assert _wait(lambda: restarted.failures > first_failures, timeout=5.0), (
            "retried in the background (2 s backoff)"
        )
        opener.up = True
        restarted.request_sync()
        assert _wait(lambda: restarted.player.playing.version == 2 and not restarted.player.swapping)
        status = restarted.status()
        assert status["online"] is True and status["error"] == "" and status["connection"] == "online"
        assert restarted.player.swaps == 1
    finally:
        restarted.stop()


def test_corrupt_bundle_is_rejected_and_the_current_one_keeps_playing(tmp_path, real_studio):
    """Against a real studio server and the real gRPC client: v2's download is cut after its first
    chunk and the kept part is damaged on disk (one byte flipped); the agent's next sync fails the
    studio's sha256, says so in its status, and v1 keeps sounding."""
    store, start = real_studio
    server = start()
    agent = Agent(tmp_path / "agent", audio=False, midi=False, backend="numpy", sample_rate=16000)
    agent.state.add_studio("home", server.address, token=STUDIO_TOKEN)
    agent.state.update_settings(sync_interval_s=3600)
    agent.sync_now()
    agent.start(background_sync=False)
    try:
        agent.player.note(60, 100)
        install_version(store, make_personality(tmp_path, seed=2, reverb_seconds=20.0))  # two chunks
        with pytest.raises(KeyboardInterrupt):
            agent.syncer.sync(progress=interrupt_after_first_chunk)
        [part] = (agent.state.data_path / "downloads").glob("*.tar.part")
        data = bytearray(part.read_bytes())
        data[len(data) // 2] ^= 0xFF
        part.write_bytes(bytes(data))
        with pytest.raises(SyncCorruptError):
            agent.sync_now()
        assert agent.player.playing.version == 1
        assert "corrupt" in agent.status()["error"] and agent.status()["online"] is True
        assert list((agent.state.data_path / "downloads").iterdir()) == []  # the bad archive is gone
        block = agent.player.render_block(1024)
        assert np.abs(block).max() > 0  # still sounding
    finally:
        agent.stop()


def test_practice_is_followed_then_synced_and_swapped_in(tmp_path, studio):
    (tmp_path / "t").mkdir()
    template = make_personality(tmp_path / "t", seed=7)
    source = PracticingStudio(studio, template, steps=4, step_s=0.1)
    agent = _agent(tmp_path, lambda reg: source)
    agent.sync_now()
    agent.start(background_sync=True)
    try:
        wav = tmp_path / "take.wav"
        soundfile.write(str(wav), 0.2 * np.sin(2 * np.pi * 220 * np.arange(16000) / 16000), 16000)
        row = agent.start_practice("cello", [wav], steps=4)
        assert source.uploads[0] == ("take.wav", wav.read_bytes())
        assert agent.status()["practice"] == "1 practice running"
        progress = set()
        assert _wait(lambda: progress.add(agent.practices.rows()[0]["progress"]) or not agent.practices.running)
        assert {0.25, 0.5, 0.75} & progress, f"progress was followed: {sorted(progress)}"
        [done] = agent.practices.rows()
        assert done["phase"] == "SUCCEEDED" and done["version"] == 2 and done["practice_id"] == row.practice_id
        assert done["loss"] == pytest.approx(0.25)  # the last step's, not the final message's empty loss
        assert _wait(lambda: agent.player.playing.version == 2)
        assert agent.status()["practice"] == "up to date"
    finally:
        agent.stop()


def test_practice_on_an_unreachable_studio_says_so(tmp_path, studio):
    opener = Switchable(StoreSource(studio))
    opener.up = False
    agent = _agent(tmp_path, opener)
    wav = tmp_path / "take.wav"
    soundfile.write(str(wav), np.zeros(1600) + 0.1, 16000)
    with pytest.raises(StudioUnreachableError, match="does not answer"):
        agent.start_practice("cello", [wav])
    assert agent.practices.rows() == []
