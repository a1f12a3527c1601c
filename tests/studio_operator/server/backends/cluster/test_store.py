"""The cluster object store connects through the registry's S3 factory: one retry policy, errors naming the endpoint."""

from __future__ import annotations

import socket
import threading

import pytest

from studio_operator.server.backends.cluster.store import ClusterObjectStore
from studio_operator.server.errors import UnavailableError


@pytest.fixture
def dropping_endpoint():
    """``(host:port, accepted)``: a TCP server that closes every connection it accepts."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        accepted: list[int] = []

        def drop() -> None:
            while True:
                try:
                    conn, _ = listener.accept()
                except OSError:
                    return
                accepted.append(1)
                conn.close()

        threading.Thread(target=drop, daemon=True).start()
        yield f"127.0.0.1:{listener.getsockname()[1]}", accepted


def test_a_failing_object_store_is_tried_attempts_times_then_unavailable(dropping_endpoint, tmp_path):
    endpoint, accepted = dropping_endpoint
    store = ClusterObjectStore(endpoint, bucket="amadeus", secure=False, cache_home=tmp_path, attempts=2)
    assert store.endpoint == f"http://{endpoint}"
    with pytest.raises(UnavailableError) as info:
        store.check_audio_uri("alice", "s3://amadeus/tenants/alice/practices/p/take.wav", "header.audio_uris[0]")
    assert str(info.value).startswith(
        f"S3 checking tenants/alice/practices/p/take.wav: http://{endpoint} is unreachable or failing after 2 attempts"
    )
    assert len(accepted) == 2  # the HTTP pool retries nothing on its own


def test_the_tenant_registries_share_the_stores_connection(tmp_path):
    store = ClusterObjectStore("minio:9000", bucket="amadeus", secure=True, cache_home=tmp_path)
    alice, bob = store.store("alice").registry, store.store("bob").registry
    assert (
        alice.endpoint == bob.endpoint == "https://minio:9000"
        and alice.connection is bob.connection is store.connection
    )
    assert alice.location == "s3://amadeus/tenants/alice/personalities"


def test_a_malformed_endpoint_names_the_option(tmp_path):
    with pytest.raises(ValueError, match="--s3-endpoint: S3 endpoint 'ftp://minio': expected http"):
        ClusterObjectStore("ftp://minio", bucket="amadeus", cache_home=tmp_path)
