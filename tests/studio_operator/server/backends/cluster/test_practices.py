"""The cluster backend's practices: audio uploaded to S3, Practice resources in the ama's namespace
that the CRD accepts, and the watch following the status the operator writes."""

from __future__ import annotations

import hashlib

import grpc
import kmock
import numpy as np
import pytest
import soundfile
from _cluster_support import Watcher, registry_for, until, watch_threads  # noqa: E402
from _studio_support import tone_wav  # noqa: E402

from instrument_agent.client.studio_client import StudioClientError  # noqa: E402
from instrument_agent.proto import personality_pb2, studio_pb2  # noqa: E402
from studio_operator.crd import GROUP, PLURAL, VERSION  # noqa: E402
from studio_operator.operator.validation import practice_errors  # noqa: E402

Phase = studio_pb2.PracticeProgress.Phase


def test_practice_uploads_the_audio_and_creates_a_valid_practice_in_the_amas_namespace(
    alice, cluster, s3, bucket, studio, tmp_path
):
    take = tone_wav(tmp_path / "take1.wav", seconds=0.5)
    ticket = alice.practice(
        "cello",
        "imitation",
        audio=[take],
        learner_profile=personality_pb2.LearnerProfile(steps=40),
        request_id="first-lesson",
    )
    assert ticket.phase == Phase.PENDING and ticket.bytes_received == take.stat().st_size

    [practice] = cluster.practices("amadeus-alice")
    assert practice["metadata"]["name"] == ticket.practice_id
    key = f"tenants/alice/practices/{ticket.practice_id}/take1.wav"
    assert practice["spec"] == {
        "deu": "cello",
        "type": "imitation",
        "audio": [f"s3://{bucket}/{key}"],
        "learnerProfile": {"steps": 40},
    }
    assert practice["metadata"]["labels"]["amadeus.dev/ama"] == "alice"
    assert practice["metadata"]["annotations"]["amadeus.dev/client-request-id"] == "first-lesson"
    assert practice_errors(practice) == []  # what the API server's schema + CEL rules would say

    stored = s3.get_object(bucket, key)
    assert hashlib.sha256(stored.read()).hexdigest() == hashlib.sha256(take.read_bytes()).hexdigest()
    stored.close()
    audio, rate = soundfile.read(take)
    assert rate == 16000 and np.abs(audio).max() > 0.1  # real audio went up
    assert not any((tmp_path / "studio" / "cache" / "incoming").iterdir()), "staging left behind"

    again = alice.practice(
        "cello",
        "imitation",
        audio=[take],
        learner_profile=personality_pb2.LearnerProfile(steps=40),
        request_id="first-lesson",
    )
    assert again.practice_id == ticket.practice_id and len(cluster.practices()) == 1  # idempotent by request id


def test_feedback_and_tuning_specs_validate_against_the_crd(alice, cluster, bucket, published, tmp_path):
    performance = tone_wav(tmp_path / "performance.wav", seconds=1.0, f0=330.0)
    feedback = alice.practice(
        "cello", "feedback", performance=performance, regions=[(0.0, 0.4, "good"), (0.5, 0.9, "bad")], base_version=1
    )
    tuning = alice.practice(
        "cello", "tuning", player_profile=personality_pb2.PlayerProfile(gain_db=-6.0, reverb_mix=0.25)
    )
    by_name = {p["metadata"]["name"]: p for p in cluster.practices("amadeus-alice")}
    spec = by_name[feedback.practice_id]["spec"]
    assert spec["feedback"] == {
        "performance": f"s3://{bucket}/tenants/alice/practices/{feedback.practice_id}/performance.wav",
        "regions": [{"start": 0.0, "end": 0.4, "label": "good"}, {"start": 0.5, "end": 0.9, "label": "bad"}],
        "method": "auto",
    }
    assert spec["baseVersion"] == 1 and "audio" not in spec
    assert by_name[tuning.practice_id]["spec"] == {
        "deu": "cello",
        "type": "tuning",
        "playerProfile": {"gainDb": -6.0, "reverbMix": 0.25},
    }
    assert all(practice_errors(p) == [] for p in by_name.values())


def test_the_feedback_method_and_budget_become_the_practices_spec(alice, cluster, published, tmp_path):
    performance = tone_wav(tmp_path / "performance.wav", seconds=1.0, f0=330.0)
    regions = [(0.0, 0.4, "good")]
    ticket = alice.practice(
        "cello", "feedback", performance=performance, regions=regions, feedback_method="finetune", finetune_steps=30
    )
    created = {p["metadata"]["name"]: p for p in cluster.practices("amadeus-alice")}[ticket.practice_id]
    assert (created["spec"]["feedback"]["method"], created["spec"]["feedback"]["finetuneSteps"]) == ("finetune", 30)
    assert practice_errors(created) == []
    count = len(cluster.practices())
    with pytest.raises(StudioClientError) as err:
        alice.practice("cello", "feedback", performance=performance, regions=regions, feedback_method="gradient")
    assert err.value.code == grpc.StatusCode.INVALID_ARGUMENT and "header.feedback_method 'gradient'" in str(err.value)
    assert len(cluster.practices()) == count  # nothing created


def test_a_tuning_of_an_unknown_deu_is_not_found_and_creates_nothing(alice, cluster, published):
    with pytest.raises(StudioClientError) as err:
        alice.practice("oboe", "tuning", player_profile=personality_pb2.PlayerProfile(gain_db=1.0))
    assert err.value.code == grpc.StatusCode.NOT_FOUND and "oboe" in str(err.value)
    assert cluster.practices() == []


# -- WatchPractice follows the operator's status -------------------------------------------


def test_watch_streams_the_status_the_operator_writes(
    start_cluster_studio, studio, alice, cluster, published, s3_endpoint, bucket, cello_bundle
):
    ticket = alice.practice("cello", "tuning", player_profile=personality_pb2.PlayerProfile(gain_db=-3.0))
    namespace = "amadeus-alice"
    watcher = Watcher(alice, ticket.practice_id)
    first = watcher.wait_for(Phase.PENDING)
    assert first.deu == "cello" and first.type == personality_pb2.PracticeRecord.TUNING and "operator" in first.message

    cluster.set_status(
        namespace,
        ticket.practice_id,
        phase="Pending",
        message="kfp run r-1 submitted",
        runId="r-1",
        conditions=[
            {
                "type": "Submitted",
                "status": "True",
                "reason": "RunSubmitted",
                "message": "kfp run r-1",
                "lastTransitionTime": "2030-01-01T00:00:01Z",
            }
        ],
    )
    with watcher.updated:
        assert watcher.updated.wait_for(lambda: any("r-1" in p.message for p in watcher.seen), 10), watcher.seen
    cluster.set_status(namespace, ticket.practice_id, phase="Running", message="run r-1 is running")
    running = watcher.wait_for(Phase.RUNNING)
    assert running.message == "run r-1 is running"

    # a second studio instance (no shared memory) reports the same practice
    other = start_cluster_studio.client("alice", start_cluster_studio())
    assert next(other.watch(ticket.practice_id, follow=False)).phase == Phase.RUNNING

    v2 = registry_for(s3_endpoint, bucket, "alice").publish(cello_bundle)  # what the pipeline's push step does
    cluster.set_status(
        namespace,
        ticket.practice_id,
        phase="Succeeded",
        version=v2.version,
        message="deu 'cello' version 2",
        metrics={"eval/spectral_loss": 3.25},
        completionTime="2030-01-01T00:05:00Z",
    )
    done = watcher.wait_for(Phase.SUCCEEDED)
    watcher.thread.join(10)
    assert not watcher.thread.is_alive(), "the watch did not end with the practice"
    assert done.version == 2 and done.digest == v2.digest and done.metrics["eval/spectral_loss"] == 3.25
    assert [Phase.Name(p.phase) for p in watcher.seen] == ["PENDING", "PENDING", "RUNNING", "SUCCEEDED"]
    assert done.updated.ToJsonString() == "2030-01-01T00:05:00Z"
    requests = [r for r in cluster.api if r.name == ticket.practice_id or "watch" in r.params]
    fetches = [r for r in requests if r.action == kmock.action.FETCH]
    assert [r.params.get("fieldSelector") for r in requests if r.action == kmock.action.WATCH] == [
        f"metadata.name={ticket.practice_id}"
    ]
    assert len(fetches) <= 3, "the changes came from the watch, not from polling"


def test_deleting_the_practice_ends_the_watch_as_cancelled(alice, cluster, published):
    ticket = alice.practice("cello", "tuning", player_profile=personality_pb2.PlayerProfile(gain_db=2.0))
    watcher = Watcher(alice, ticket.practice_id)
    watcher.wait_for(Phase.PENDING)
    assert until(lambda: watch_threads(ticket.practice_id)), "the studio did not open a watch"
    cluster.custom.delete_namespaced_custom_object(GROUP, VERSION, "amadeus-alice", PLURAL, ticket.practice_id)
    cancelled = watcher.wait_for(Phase.CANCELLED)
    assert "deleted" in cancelled.message


def test_a_client_leaving_a_watch_stops_the_kubernetes_watch(alice, studio, published):
    ticket = alice.practice("cello", "tuning", player_profile=personality_pb2.PlayerProfile(gain_db=2.0))
    stream = alice.watch(ticket.practice_id, timeout=30)
    assert next(stream).phase == Phase.PENDING
    gauge = lambda: studio.metrics.value("amadeus_studio_active_streams", method="WatchPractice")  # noqa: E731
    assert until(lambda: watch_threads(ticket.practice_id)) and gauge() == 1
    stream.close()  # the client cancels the call
    assert until(lambda: not watch_threads(ticket.practice_id) and gauge() == 0)


# -- personalities and performance from the registry -------------------------------------------


def test_practices_per_tenant_are_limited_by_the_practices_in_its_namespace(
    start_cluster_studio, cluster, published, tmp_path
):
    server = start_cluster_studio(max_practices_per_tenant=1)
    alice, bob = start_cluster_studio.client("alice", server), start_cluster_studio.client("bob", server)
    tune = personality_pb2.PlayerProfile(gain_db=1.0)
    first = alice.practice("cello", "tuning", player_profile=tune)
    with pytest.raises(StudioClientError) as err:
        alice.practice("cello", "tuning", player_profile=tune)
    assert err.value.code == grpc.StatusCode.RESOURCE_EXHAUSTED
    bob.practice("flute", "tuning", player_profile=tune)  # bob's namespace has room
    cluster.set_status("amadeus-alice", first.practice_id, phase="Failed", message="run failed")
    alice.practice("cello", "tuning", player_profile=tune)


# -- an unreachable Kubernetes API ------------------------------------------------------------------


def test_the_cluster_studio_says_plainly_that_it_has_no_previews(alice, studio, tmp_path):
    from instrument_agent.client.previews import download_preview

    ticket = alice.practice(
        "cello", "imitation", audio=[tone_wav(tmp_path / "take.wav", seconds=0.5)], request_id="preview-lesson"
    )
    with pytest.raises(StudioClientError) as refused:
        download_preview(alice, ticket.practice_id, tmp_path / "preview")
    assert refused.value.code == grpc.StatusCode.UNIMPLEMENTED
    assert "cluster backend) does not expose practice previews" in str(refused.value)
    assert not (tmp_path / "preview").exists()
