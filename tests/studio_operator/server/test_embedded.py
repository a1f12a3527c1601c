"""The embedded backend: practices run in runner processes, their state lives on disk,
any studio on the same home can report them, limits hold per tenant, and no failed
practice ever publishes a version."""

from __future__ import annotations

import collections
import time

import grpc
import numpy as np
import pytest
import soundfile
from _studio_support import gated_runner

from instrument_agent.client.studio_client import StudioClientError
from instrument_agent.proto import personality_pb2, studio_pb2

Phase = studio_pb2.PracticeProgress.Phase


def _final(client, practice_id, timeout=30.0):
    last = collections.deque(client.watch(practice_id, timeout=timeout), maxlen=1)  # the final progress
    return last[0] if last else None


def test_a_player_profile_tuning_publishes_a_new_version(client_for, cello_bundle):
    alice = client_for("alice")
    ticket = alice.practice(
        "cello", "tuning", player_profile=personality_pb2.PlayerProfile(gain_db=-6.0, reverb_mix=0.25)
    )
    seen = list(alice.watch(ticket.practice_id, timeout=30))
    assert seen[0].phase in (Phase.PENDING, Phase.RUNNING) and seen[-1].phase == Phase.SUCCEEDED, seen[-1].message
    assert seen[-1].version == 2 and seen[-1].type == personality_pb2.PracticeRecord.TUNING
    info = alice.get_personality("cello")
    assert info.version.digest == seen[-1].digest and info.version.parent_version == 1
    profile = info.manifest.player_profile
    assert profile.gain_db == -6.0 and profile.reverb_mix == 0.25
    kept = personality_pb2.PlayerProfile()
    kept.CopyFrom(cello_bundle.manifest.player_profile)
    kept.gain_db, kept.reverb_mix = -6.0, 0.25
    assert profile == kept  # the two changed, the rest kept
    assert info.manifest.practice.practice_id == ticket.practice_id


def test_a_second_studio_on_the_same_home_answers_watch(start_studio, client_for, tmp_path):
    runner, gate = gated_runner(tmp_path)
    first = start_studio(runner=runner)
    ticket = client_for("alice", server=first).practice(
        "cello", "tuning", player_profile=personality_pb2.PlayerProfile(gain_db=3.0)
    )
    second = start_studio()
    other = client_for("alice", server=second)
    assert next(other.watch(ticket.practice_id, follow=False)).phase == Phase.PENDING
    gate.touch()
    assert _final(other, ticket.practice_id).phase == Phase.SUCCEEDED


def test_concurrent_practices_are_limited_per_tenant_and_counted(start_studio, client_for, tmp_path):
    runner, gate = gated_runner(tmp_path)
    server = start_studio(runner=runner, max_practices_per_tenant=1)
    alice, bob = client_for("alice", server=server), client_for("bob", server=server)
    tune = personality_pb2.PlayerProfile(gain_db=1.0)
    first = alice.practice("cello", "tuning", player_profile=tune)
    with pytest.raises(StudioClientError, match="limit 1") as err:
        alice.practice("cello", "tuning", player_profile=tune)
    assert err.value.code == grpc.StatusCode.RESOURCE_EXHAUSTED
    second = bob.practice("flute", "tuning", player_profile=tune)  # bob has his own allowance
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and server.metrics.value("amadeus_studio_practices", state="queued") != 1:
        time.sleep(0.05)
    assert server.metrics.value("amadeus_studio_practices", state="queued") == 1  # one worker: one runs, one waits
    assert server.metrics.value("amadeus_studio_practices", state="running") == 1
    gate.touch()
    assert _final(alice, first.practice_id).phase == Phase.SUCCEEDED
    assert _final(bob, second.practice_id).phase == Phase.SUCCEEDED
    assert alice.practice("cello", "tuning", player_profile=tune).practice_id  # allowance back


def test_the_same_request_id_returns_the_same_practice(client_for):
    alice = client_for("alice")
    tune = personality_pb2.PlayerProfile(gain_db=2.0)
    a = alice.practice("cello", "tuning", player_profile=tune, request_id="retry-1")
    b = alice.practice("cello", "tuning", player_profile=tune, request_id="retry-1")
    assert a.practice_id == b.practice_id
    assert _final(alice, a.practice_id).version == 2
    assert [v.version for v in alice.list_personalities("cello")] == [1, 2]


def test_a_failed_practice_reports_why_and_publishes_nothing(client_for, tmp_path):
    """Silence is valid audio (the upload passes) but nothing to learn from: the runner fails."""
    silent = tmp_path / "silence.wav"
    soundfile.write(str(silent), np.zeros(8000, dtype=np.float32), 16000)
    alice = client_for("alice")
    ticket = alice.practice("cello", "imitation", audio=[silent])
    final = _final(alice, ticket.practice_id, timeout=120)
    assert final.phase == Phase.FAILED and "silence.wav" in final.message and str(tmp_path) not in final.message
    assert [v.version for v in alice.list_personalities("cello")] == [1]


def test_an_interrupted_practice_goes_back_to_the_queue_and_another_studio_finishes_it(
    start_studio, client_for, studio, tmp_path
):
    """``studio`` (ungated) shares the home; the gated one claims first, then shuts down."""
    runner, _gate = gated_runner(tmp_path)
    with studio.backend._lock:  # hold the shared studio's scheduler until the gated one has claimed
        first = start_studio(runner=runner)
        ticket = client_for("alice", server=first).practice(
            "cello", "tuning", player_profile=personality_pb2.PlayerProfile(gain_db=-3.0)
        )
        assert first.metrics.value("amadeus_studio_practices", state="running") == 1
    first.stop(grace=0.5)  # terminates its runner: the practice is queued again, unclaimed
    final = _final(client_for("alice"), ticket.practice_id)
    assert final.phase == Phase.SUCCEEDED and final.version == 2


def test_watching_an_unknown_practice_is_not_found(client_for):
    with pytest.raises(StudioClientError) as err:
        list(client_for("alice").watch("pr-20990101000000-deadbeef"))
    assert err.value.code == grpc.StatusCode.NOT_FOUND
    with pytest.raises(StudioClientError) as err:
        list(client_for("alice").watch("../../etc"))
    assert err.value.code == grpc.StatusCode.INVALID_ARGUMENT
