"""Hear it learn, through a real studio server process (embedded backend) over gRPC: the agent
starts a real practice (tiny learnerProfile, a preview every 10 steps), receives the preview
generations in WatchPractice, downloads and plays each one while the practice trains, and
plays the published version once it exists; a second agent follows the same practice by its id;
no preview is ever a version."""

from __future__ import annotations

import time

import grpc
import pytest
from test_end_to_end import TOKEN, _phrase_wav, _tiny_learner, studio_process  # noqa: F401 - the fixture

from instrument_agent.agent import Agent
from instrument_agent.client.previews import download_preview
from instrument_agent.client.studio_client import StudioClient, StudioClientError
from instrument_agent.personality import is_preview
from instrument_agent.personality.store import PersonalityStore

pytestmark = pytest.mark.slow


def test_the_agent_plays_previews_while_it_practises_then_the_version(studio_process, tmp_path):  # noqa: F811
    agent = Agent(tmp_path / "agent", audio=False, midi=False, backend="numpy", sample_rate=16000)
    agent.state.add_studio("e2e", studio_process, token=TOKEN)
    agent.start(background_sync=True)
    other = Agent(tmp_path / "other", audio=False, midi=False, backend="numpy", sample_rate=16000)
    try:
        learner = _tiny_learner()
        # 300 steps: long enough on a loaded machine for the follower to swap in several previews
        # (120 steps ended after one under load 8-10, the player busy building engines)
        learner.steps, learner.preview_every = 300, 10
        row = agent.start_practice("cello", [_phrase_wav(tmp_path / "phrase.wav")], learner_profile=learner)
        agent.player.note(57, 100)  # the ama holds a note while it learns
        # A second agent (another laptop of the ama) follows the same practice by its id.
        other.state.add_studio("e2e", studio_process, token=TOKEN)
        other.start(background_sync=True)
        other.follow(row.practice_id)
        other_played: set[int] = set()
        played: dict[int, int] = {}  # preview generation -> step, as the player played them
        announced: set[int] = set()
        deadline = time.time() + 300
        while time.time() < deadline:
            [current] = agent.practices.rows()
            if current["preview_generation"]:
                announced.add(current["preview_generation"])
            playing = agent.player.playing
            if playing is not None and playing.preview_step:
                played[playing.preview_generation] = playing.preview_step
                assert playing.version == 0 and playing.label == f"preview step {playing.preview_step}"
            if other.player.playing is not None and other.player.playing.preview_step:
                other_played.add(other.player.playing.preview_generation)
            if not current["running"]:
                break
            time.sleep(0.05)
        assert current["phase"] == "SUCCEEDED", current
        assert len(announced) >= 2, f"WatchPractice announced previews {sorted(announced)}"
        assert len(played) >= 2, f"the player played previews {played}"
        assert all(step % 10 == 0 and step <= 300 for step in played.values())
        assert sorted(played) == sorted(set(played)) and list(played.values()) == sorted(played.values())

        # The published version replaces the preview as soon as it is synced.
        deadline = time.time() + 60
        while time.time() < deadline and (agent.player.playing is None or agent.player.playing.version != 1):
            time.sleep(0.2)
        playing = agent.player.playing
        assert playing.version == 1 and playing.preview_step == 0 and playing.label == "version 1"
        assert agent.player.status()["voices"] == 1  # the held note went on through every swap
        assert agent.status()["previews"] == [] and agent.status()["current"]["cello"]["version"] == 1

        # No preview is ever a version: the studio lists v1 only, the agent's store holds v1 only.
        with StudioClient(studio_process, token=TOKEN) as client:
            assert [(p.deu, p.version) for p in client.list_personalities()] == [("cello", 1)]
            # A finished practice still serves its last preview (the ama may compare), version 0.
            bundle = download_preview(client, row.practice_id, tmp_path / "last-preview")
            assert is_preview(bundle) and bundle.version == 0 and bundle.deu == "cello"
            with pytest.raises(StudioClientError) as missing:
                download_preview(client, "not-a-practice", tmp_path / "nothing")
            assert missing.value.code in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT)
        store = PersonalityStore(agent.state.data_path)
        assert [v.version for v in store.versions("cello")] == [1]

        assert other_played, "the second agent played no preview"
        deadline = time.time() + 60
        while time.time() < deadline and (other.player.playing is None or other.player.playing.version != 1):
            time.sleep(0.2)
        assert other.player.playing.label == "version 1" and other.status()["previews"] == []
        [followed] = other.practices.rows()
        assert followed["practice_id"] == row.practice_id and followed["phase"] == "SUCCEEDED"
    finally:
        agent.stop()
        other.stop()
