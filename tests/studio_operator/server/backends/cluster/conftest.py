"""Fixtures of the cluster backend's tests: a real studio (``--backend cluster``) on loopback, the real
``kubernetes`` client against kmock's emulated API server serving the Practice
CRD, and moto's S3 server as the object store (through the real ``minio`` client).

What the operator would do (write a Practice's status) is done here with the
Kubernetes client on the status subresource.
"""

from __future__ import annotations

import uuid

import pytest
from _cluster_support import KEYS, EmulatedCluster, free_port, registry_for  # noqa: E402
from _studio_support import TOKENS, install, write_tokens  # noqa: E402

from instrument_agent.client.studio_client import StudioClient  # noqa: E402
from instrument_agent.personality.store import PersonalityStore  # noqa: E402
from studio_operator.server import StudioConfig, StudioServer  # noqa: E402


@pytest.fixture
def cluster(tmp_path):
    emulated = EmulatedCluster(tmp_path)
    yield emulated
    emulated.close()


@pytest.fixture(scope="module")
def s3_endpoint():
    from moto.server import ThreadedMotoServer

    port = free_port()
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


@pytest.fixture
def published(s3_endpoint, bucket, cello_bundle, tmp_path):
    """In the bucket: alice owns cello v1, bob owns flute v1 (each in their own registry)."""
    flute = install(cello_bundle, PersonalityStore(tmp_path / "flute-home"), deu="flute")
    return {
        "alice": registry_for(s3_endpoint, bucket, "alice").publish(cello_bundle),
        "bob": registry_for(s3_endpoint, bucket, "bob").publish(flute),
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
