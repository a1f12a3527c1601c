"""The cluster backend: a real studio (``--backend cluster``) on loopback, the real
``kubernetes`` client against kmock's emulated API server serving the Practice
CRD, and moto's S3 server as the object store (through the real ``minio`` client).

What the operator would do (write a Practice's status) is done here with the
Kubernetes client on the status subresource.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import socket
import threading
import time
import uuid
from pathlib import Path

import grpc
import kmock
import mido
import numpy as np
import pytest
import soundfile
from _operator_doubles import PRACTICES, ApiServer, declare_resources, kubeconfig_for  # noqa: E402
from _studio_support import TOKENS, install, tone_wav, write_midi, write_tokens  # noqa: E402

from instrument_agent.client.studio_client import StudioClient, StudioClientError  # noqa: E402
from instrument_agent.personality.store import PersonalityStore  # noqa: E402
from instrument_agent.proto import personality_pb2, studio_pb2  # noqa: E402
from studio_operator.crd import GROUP, PLURAL, VERSION  # noqa: E402
from studio_operator.operator.validation import practice_errors  # noqa: E402
from studio_operator.server import StudioConfig, StudioServer  # noqa: E402
from studio_operator.server.backends.cluster.practice_resources import (  # noqa: E402
    namespace_for,
    practice_body,
    progress_of,
)

Phase = studio_pb2.PracticeProgress.Phase
KEYS = dict(access_key="testing", secret_key="testing")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- the edges: an emulated API server and an S3 server ------------------------------


class EmulatedCluster:
    """kmock's emulated API server (Practices with /status) on its own thread and loop."""

    def __init__(self, tmp_path: Path):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="kube-emulator", daemon=True)
        self.thread.start()
        self.api = ApiServer()
        declare_resources(self.api)
        self._http = kmock.Server(self.api)
        asyncio.run_coroutine_threadsafe(self.api.__aenter__(), self.loop).result(10)  # errors become API answers
        http = asyncio.run_coroutine_threadsafe(self._http.__aenter__(), self.loop).result(10)
        self.url = str(http.url).rstrip("/")
        self.kubeconfig = Path(kubeconfig_for(self.url, tmp_path / "kubeconfig"))
        from kubernetes import client, config

        self.client = config.new_client_from_config(config_file=str(self.kubeconfig))
        self.custom = client.CustomObjectsApi(self.client)

    def practices(self, namespace: str | None = None) -> list[dict]:
        return [
            o.raw
            for (res, ns, _), o in list(self.api.objects.items())
            if res == kmock.resource(PRACTICES) and not o.deleted and namespace in (None, ns)
        ]

    def set_status(self, namespace: str, name: str, **status) -> None:
        """What the operator does: merge ``status`` into the Practice's status subresource."""
        self.custom.patch_namespaced_custom_object_status(GROUP, VERSION, namespace, PLURAL, name, {"status": status})

    def close(self) -> None:
        """Stop; the API's own answers (404 Not Found, 409 Conflict) are expected, anything else fails the test."""
        self.client.close()
        unexpected = [e for e in self.api.errors if not isinstance(e, kmock.KubernetesError)]
        self.api.errors.clear()
        asyncio.run_coroutine_threadsafe(self._http.__aexit__(None, None, None), self.loop).result(10)
        asyncio.run_coroutine_threadsafe(self.api.__aexit__(None, None, None), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        assert not unexpected, unexpected


@pytest.fixture
def cluster(tmp_path):
    emulated = EmulatedCluster(tmp_path)
    yield emulated
    emulated.close()


@pytest.fixture(scope="module")
def s3_endpoint():
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def bucket():
    return f"studio-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def s3(s3_endpoint):
    from minio import Minio

    return Minio(s3_endpoint.removeprefix("http://"), secure=False, **KEYS)


def _registry(s3_endpoint: str, bucket: str, ama: str):
    from pipelines.registry import S3Registry

    return S3Registry(f"s3://{bucket}/tenants/{ama}/personalities", endpoint=s3_endpoint, **KEYS)


@pytest.fixture
def published(s3_endpoint, bucket, cello_bundle, tmp_path):
    """In the bucket: alice owns cello v1, bob owns flute v1 (each in their own registry)."""
    flute = install(cello_bundle, PersonalityStore(tmp_path / "flute-home"), deu="flute")
    return {
        "alice": _registry(s3_endpoint, bucket, "alice").publish(cello_bundle),
        "bob": _registry(s3_endpoint, bucket, "bob").publish(flute),
    }


@pytest.fixture
def start_cluster_studio(tmp_path, cluster, s3_endpoint, bucket):
    servers, clients = [], []

    def start(**overrides) -> StudioServer:
        config = dict(
            home=tmp_path / "studio",
            host="127.0.0.1",
            port=0,
            metrics_port=None,
            backend="cluster",
            tokens=write_tokens(tmp_path / "tokens.yaml"),
            kubeconfig=cluster.kubeconfig,
            s3_endpoint=s3_endpoint,
            s3_bucket=bucket,
            s3_access_key="testing",
            s3_secret_key="testing",
        )
        config.update(overrides)
        server = StudioServer(StudioConfig(**config)).start()
        servers.append(server)
        return server

    def client(ama: str, server: StudioServer) -> StudioClient:
        made = StudioClient(server.address, token=TOKENS[ama], timeout=20)
        clients.append(made)
        return made

    start.client = client
    yield start
    for made in clients:
        made.close()
    for server in servers:
        server.stop(grace=0.5)


@pytest.fixture
def studio(start_cluster_studio):
    return start_cluster_studio()


@pytest.fixture
def alice(start_cluster_studio, studio):
    return start_cluster_studio.client("alice", studio)


@pytest.fixture
def bob(start_cluster_studio, studio):
    return start_cluster_studio.client("bob", studio)


def _until(predicate, timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    while not (value := predicate()) and time.monotonic() < deadline:
        time.sleep(0.02)
    return value


def _watch_threads(practice_id: str) -> list[threading.Thread]:
    """The studio's open Kubernetes watches on one practice (the studio runs in this process)."""
    return [t for t in threading.enumerate() if t.name == f"practice-watch-{practice_id}"]


class Watcher:
    """Follows a practice on a thread, collecting every PracticeProgress."""

    def __init__(self, client: StudioClient, practice_id: str):
        self.seen: list[studio_pb2.PracticeProgress] = []
        self.error: Exception | None = None
        self.updated = threading.Condition()
        self.thread = threading.Thread(target=self._run, args=(client, practice_id), daemon=True)
        self.thread.start()

    def _run(self, client, practice_id) -> None:
        try:
            for progress in client.watch(practice_id, timeout=30):
                with self.updated:
                    self.seen.append(progress)
                    self.updated.notify_all()
        except Exception as exc:  # noqa: BLE001 - asserted by the test
            self.error = exc

    def wait_for(self, phase, timeout: float = 10.0) -> studio_pb2.PracticeProgress:
        with self.updated:
            assert self.updated.wait_for(lambda: any(p.phase == phase for p in self.seen) or self.error, timeout), (
                f"no {Phase.Name(phase)} within {timeout}s: {[Phase.Name(p.phase) for p in self.seen]}"
            )
        assert self.error is None, self.error
        return next(p for p in self.seen if p.phase == phase)


# -- Practice: a CR with the right spec, the audio in S3 ------------------------------------------


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
    }
    assert spec["baseVersion"] == 1 and "audio" not in spec
    assert by_name[tuning.practice_id]["spec"] == {
        "deu": "cello",
        "type": "tuning",
        "playerProfile": {"gainDb": -6.0, "reverbMix": 0.25},
    }
    assert all(practice_errors(p) == [] for p in by_name.values())


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

    v2 = _registry(s3_endpoint, bucket, "alice").publish(cello_bundle)  # what the pipeline's push step does
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
    assert _until(lambda: _watch_threads(ticket.practice_id)), "the studio did not open a watch"
    cluster.custom.delete_namespaced_custom_object(GROUP, VERSION, "amadeus-alice", PLURAL, ticket.practice_id)
    cancelled = watcher.wait_for(Phase.CANCELLED)
    assert "deleted" in cancelled.message


def test_a_client_leaving_a_watch_stops_the_kubernetes_watch(alice, studio, published):
    ticket = alice.practice("cello", "tuning", player_profile=personality_pb2.PlayerProfile(gain_db=2.0))
    stream = alice.watch(ticket.practice_id, timeout=30)
    assert next(stream).phase == Phase.PENDING
    gauge = lambda: studio.metrics.value("amadeus_studio_active_streams", method="WatchPractice")  # noqa: E731
    assert _until(lambda: _watch_threads(ticket.practice_id)) and gauge() == 1
    stream.close()  # the client cancels the call
    assert _until(lambda: not _watch_threads(ticket.practice_id) and gauge() == 0)


# -- personalities and performance from the registry -------------------------------------------


def test_list_get_download_and_perform_read_the_registry(alice, published, tmp_path, cello_bundle):
    rows = alice.list_personalities()
    assert [(r.deu, r.version, r.digest) for r in rows] == [("cello", 1, published["alice"].digest)]
    info = alice.get_personality("cello")
    assert info.version.digest == published["alice"].digest and info.manifest.deu == "cello"
    bundle = alice.download("cello", tmp_path / "downloaded")
    assert bundle.digest == published["alice"].digest and bundle.version == 1
    note = [
        mido.Message("note_on", note=60, velocity=100, time=0),
        mido.Message("note_off", note=60, velocity=0, time=480),
    ]
    response = alice.perform_file(write_midi(tmp_path / "phrase.mid", [note]), deu="cello", sample_rate=16000)
    audio, rate = soundfile.read(io.BytesIO(response.audio))
    assert rate == 16000 and response.version == 1 and np.sqrt(np.mean(audio**2)) > 1e-4


# -- tenants: one namespace and one registry per ama ----------------------------------------------


def test_tenants_are_isolated_by_namespace_and_prefix(alice, bob, cluster, s3, bucket, published, tmp_path):
    take = tone_wav(tmp_path / "take.wav", seconds=0.3)
    ticket = alice.practice("cello", "imitation", audio=[take])
    alice_uri = cluster.practices("amadeus-alice")[0]["spec"]["audio"][0]

    for call in (
        lambda: next(bob.watch(ticket.practice_id, follow=False)),
        lambda: bob.get_personality("cello"),
        lambda: bob.list_personalities("cello"),
        lambda: bob.download("cello", tmp_path / "stolen"),
    ):
        with pytest.raises(StudioClientError) as err:
            call()
        assert err.value.code == grpc.StatusCode.NOT_FOUND
    assert [r.deu for r in bob.list_personalities()] == ["flute"]
    with pytest.raises(StudioClientError) as err:  # practising on alice's audio by reference
        bob.practice("flute", "imitation", audio_uris=[alice_uri])
    assert err.value.code == grpc.StatusCode.PERMISSION_DENIED and "outside this ama" in str(err.value)
    with pytest.raises(StudioClientError) as err:
        bob.practice("flute", "imitation", audio_uris=["/etc/passwd"])
    assert err.value.code == grpc.StatusCode.PERMISSION_DENIED

    own = f"s3://{bucket}/tenants/bob/practices/{ticket.practice_id}/take.wav"  # bob's prefix, but nothing there
    with pytest.raises(StudioClientError) as err:
        bob.practice("flute", "imitation", audio_uris=[own])
    assert err.value.code == grpc.StatusCode.INVALID_ARGUMENT and "no such object" in str(err.value)

    s3.fput_object(bucket, "tenants/bob/recordings/flute.wav", str(take))
    mine = bob.practice("flute", "imitation", audio_uris=[f"s3://{bucket}/tenants/bob/recordings/flute.wav"])
    [bobs] = cluster.practices("amadeus-bob")
    assert bobs["metadata"]["name"] == mine.practice_id and bobs["spec"]["audio"] == [
        f"s3://{bucket}/tenants/bob/recordings/flute.wav"
    ]
    assert [p["metadata"]["name"] for p in cluster.practices("amadeus-alice")] == [ticket.practice_id]


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


def test_an_unreachable_kubernetes_api_is_unavailable_and_leaves_no_audio(
    start_cluster_studio, s3, bucket, tmp_path, published
):
    port = _free_port()  # nothing listens there
    kubeconfig = Path(kubeconfig_for(f"http://127.0.0.1:{port}", tmp_path / "dead-kubeconfig"))
    server = start_cluster_studio(kubeconfig=kubeconfig)
    alice = start_cluster_studio.client("alice", server)
    take = tone_wav(tmp_path / "take.wav", seconds=0.3)
    for call in (
        lambda: alice.practice("cello", "imitation", audio=[take]),
        lambda: next(alice.watch("pr-20300101000000-0123abcd", follow=False)),
    ):
        with pytest.raises(StudioClientError) as err:
            call()
        assert err.value.code == grpc.StatusCode.UNAVAILABLE
        assert f"Kubernetes API at http://127.0.0.1:{port} is unreachable" in str(err.value)
    assert not list(s3.list_objects(bucket, prefix="tenants/alice/practices/", recursive=True))
    assert [r.deu for r in alice.list_personalities()] == ["cello"]  # the registry still answers


def test_an_unreachable_object_store_is_unavailable_and_creates_no_practice(start_cluster_studio, cluster, tmp_path):
    port = _free_port()
    server = start_cluster_studio(s3_endpoint=f"127.0.0.1:{port}", s3_secure=False)
    alice = start_cluster_studio.client("alice", server)
    for call in (
        alice.list_personalities,
        lambda: alice.practice("cello", "imitation", audio=[tone_wav(tmp_path / "take.wav", seconds=0.3)]),
    ):
        with pytest.raises(StudioClientError) as err:
            call()
        assert err.value.code == grpc.StatusCode.UNAVAILABLE and f"127.0.0.1:{port}" in str(err.value)
    assert cluster.practices() == []


def test_serve_refuses_the_cluster_backend_without_an_object_store(cluster, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from studio_operator.server.cli import studio_app

    monkeypatch.delenv("AMADEUS_S3_ENDPOINT", raising=False)
    result = CliRunner().invoke(
        studio_app,
        [
            "serve",
            "--backend",
            "cluster",
            "--kubeconfig",
            str(cluster.kubeconfig),
            "--home",
            str(tmp_path),
            "--port",
            "0",
            "--metrics-port",
            "-1",
        ],
    )
    assert result.exit_code == 2 and "--s3-endpoint" in result.output


# -- the mapping on its own -------------------------------------------------------------------------


def test_namespaces_are_dns_labels_and_distinct_per_ama():
    assert namespace_for("") == "amadeus" and namespace_for("alice") == "amadeus-alice"
    odd = [namespace_for(a) for a in ("a.b", "a_b", "a-b", "x" * 63)]
    assert len(set(odd)) == 4 and odd[2] == "amadeus-a-b"
    assert all(len(n) <= 63 and n.replace("-", "").isalnum() and n == n.lower() for n in odd)


def test_a_practice_without_status_is_pending_and_conditions_become_the_message():
    header = studio_pb2.PracticeHeader(deu="cello", type=personality_pb2.PracticeRecord.IMITATION)
    body = practice_body(header, name="pr-x", namespace="amadeus", ama="", audio=["s3://b/k.wav"])
    assert practice_errors(body) == [] and "amadeus.dev/ama" not in body["metadata"]["labels"]
    assert progress_of(body).phase == Phase.PENDING
    body["status"] = {
        "phase": "Failed",
        "conditions": [
            {
                "type": "Submitted",
                "status": "True",
                "reason": "RunSubmitted",
                "lastTransitionTime": "2030-01-01T00:00:00Z",
            },
            {
                "type": "Failed",
                "status": "True",
                "reason": "UnknownDeu",
                "message": "deu 'cello' has no personality yet",
                "lastTransitionTime": "2030-01-01T00:00:02Z",
            },
        ],
    }
    failed = progress_of(body)
    assert failed.phase == Phase.FAILED and failed.message == "UnknownDeu: deu 'cello' has no personality yet"
    assert failed.updated.ToJsonString() == "2030-01-01T00:00:02Z"
