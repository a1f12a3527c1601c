"""The cluster backend when a dependency is missing or down: an unreachable Kubernetes API or object
store is UNAVAILABLE and leaves nothing behind; serve refuses a cluster backend without an object
store."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from _cluster_support import free_port  # noqa: E402
from _operator_doubles import kubeconfig_for  # noqa: E402
from _studio_support import tone_wav  # noqa: E402

from instrument_agent.client.studio_client import StudioClientError  # noqa: E402
from instrument_agent.proto import studio_pb2  # noqa: E402

Phase = studio_pb2.PracticeProgress.Phase


def test_an_unreachable_kubernetes_api_is_unavailable_and_leaves_no_audio(
    start_cluster_studio, s3, bucket, tmp_path, published
):
    port = free_port()  # nothing listens there
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
    port = free_port()
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
