"""The S3 registry against moto's S3 server, through the real minio client."""

from __future__ import annotations

import hashlib
import threading
import time
import uuid

import pytest
from minio import Minio

from instrument_agent.personality import BundleCorruptError, UnknownDeuError
from instrument_agent.personality.store import PersonalityStore
from pipelines.registry import Backoff, RegistryConflictError, RegistryUnavailableError, S3Registry


@pytest.fixture
def registry(s3_endpoint):
    prefix = f"t-{uuid.uuid4().hex[:8]}/personalities"
    return S3Registry(f"s3://amadeus-test/{prefix}", endpoint=s3_endpoint, access_key="testing", secret_key="testing")


def _raw(registry: S3Registry) -> Minio:
    return Minio(registry.endpoint.split("://")[1], access_key="testing", secret_key="testing", secure=False)


def test_publish_then_pull_is_verified_and_renumbered(registry, make_bundle, tmp_path):
    first = make_bundle("cello", seed=1)
    second = make_bundle("cello", seed=2)
    assert registry.publish(first).version == 1
    info = registry.publish(second)
    assert info.version == 2 and registry.latest_version("cello") == 2
    assert [v.version for v in registry.versions("cello")] == [1, 2]
    assert registry.deus() == ["cello"]

    pulled = registry.pull("cello", 2, tmp_path / "pulled")
    assert pulled.digest == info.digest and pulled.version == 2
    assert (pulled.path / "decoder.npz").read_bytes() == (second.path / "decoder.npz").read_bytes()
    assert (pulled.path / "notes/readme.txt").read_bytes() == b"seed 2"
    keys = sorted(
        o.object_name.split("personalities/")[1]
        for o in _raw(registry).list_objects("amadeus-test", prefix=registry.prefix + "/", recursive=True)
    )
    assert (
        "cello/v000002/manifest.pb" in keys and "cello/versions/v000002.json" in keys and "cello/claims/v000002" in keys
    )

    # A fresh local store receives the version under the same number and digest.
    copy = registry.fetch_into(PersonalityStore(tmp_path / "other"), "cello", 2)
    assert copy.version == 2 and copy.digest == info.digest


def test_objects_are_immutable(registry, make_bundle):
    registry.publish(make_bundle("flute", seed=1))
    with pytest.raises(RegistryConflictError, match="version 1 is already taken"):
        registry.publish(make_bundle("flute", seed=3), version=1)
    with pytest.raises(RegistryConflictError, match="already exists with other content"):
        registry._put_immutable(registry._key("flute", "v000001", "decoder.npz"), b"tampered")


def test_tampered_object_is_refused_on_read(registry, make_bundle, tmp_path):
    registry.publish(make_bundle("oboe", seed=1))
    key = registry._key("oboe", "v000001", "decoder.npz")
    raw = _raw(registry)
    raw.remove_object("amadeus-test", key)
    raw.put_object("amadeus-test", key, __import__("io").BytesIO(b"not the decoder"), 15)
    with pytest.raises(BundleCorruptError, match="decoder.npz: sha256 differs"):
        registry.pull("oboe", 1, tmp_path / "pulled")
    assert not (tmp_path / "pulled").exists() and not list(tmp_path.glob(".pull-*"))


class _CutAfter(S3Registry):
    """Fault injection at the network edge: the connection drops after ``n`` object writes."""

    def __init__(self, *args, n: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.left = n

    def _put_immutable(self, key, data):
        if self.left == 0:
            raise KeyboardInterrupt("cut")
        self.left -= 1
        super()._put_immutable(key, data)


def test_interrupted_upload_leaves_no_visible_version(registry, make_bundle, s3_endpoint):
    registry.publish(make_bundle("horn", seed=1))
    cut = _CutAfter(registry.location, endpoint=s3_endpoint, access_key="testing", secret_key="testing", n=1)
    with pytest.raises(KeyboardInterrupt):
        cut.publish(make_bundle("horn", seed=2))
    assert [v.version for v in registry.versions("horn")] == [1]
    # The abandoned number is skipped, never reused: the next publish is v3.
    assert registry.publish(make_bundle("horn", seed=3)).version == 3


def test_concurrent_publishers_get_distinct_versions(registry, make_bundle, s3_endpoint):
    bundles = [make_bundle("viola", seed=i) for i in range(6)]
    barrier = threading.Barrier(len(bundles))
    results, errors = [], []

    def publish(bundle):
        # One client per publisher, as two practice pods would have.
        own = S3Registry(registry.location, endpoint=s3_endpoint, access_key="testing", secret_key="testing")
        own._markers("viola")  # warm the connection so the race is on the claim
        barrier.wait()
        try:
            results.append(own.publish(bundle))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=publish, args=(b,)) for b in bundles]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(r.version for r in results) == [1, 2, 3, 4, 5, 6]
    listed = registry.versions("viola")
    assert [v.version for v in listed] == [1, 2, 3, 4, 5, 6]
    assert {v.digest for v in listed} == {r.digest for r in results}


def test_unreachable_endpoint_is_retried_with_backoff_then_named(make_bundle):
    with __import__("socket").socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    dead = S3Registry(
        "s3://amadeus-test/x",
        endpoint=f"http://127.0.0.1:{port}",
        access_key="k",
        secret_key="s",
        backoff=Backoff(attempts=3, base_delay=0.05, factor=2.0),
    )
    started = time.perf_counter()
    with pytest.raises(RegistryUnavailableError) as info:
        dead.versions("cello")
    assert time.perf_counter() - started >= 0.05 + 0.1
    assert info.value.endpoint == f"http://127.0.0.1:{port}" and info.value.attempts == 3
    assert f"127.0.0.1:{port} is unreachable or failing after 3 attempts" in str(info.value)


def test_unknown_deu(registry):
    with pytest.raises(UnknownDeuError, match="no personality of deu 'nobody'"):
        registry.latest_version("nobody")


def test_manifest_digest_is_checked(registry, make_bundle, tmp_path):
    info = registry.publish(make_bundle("tuba", seed=1))
    raw = _raw(registry).get_object("amadeus-test", registry._key("tuba", "v000001", "manifest.pb")).read()
    assert hashlib.sha256(raw).hexdigest() == info.digest


def test_config_reads_the_names_the_chart_and_operator_set():
    from pipelines.registry import RegistryConfig

    config = RegistryConfig.from_env(
        {"AMADEUS_REGISTRY_URI": "s3://bucket/prefix", "AMADEUS_MLFLOW_TRACKING_URI": "http://mlflow:5000"}
    )
    assert config.uri == "s3://bucket/prefix" and config.mlflow_tracking_uri == "http://mlflow:5000"
    assert (
        RegistryConfig.from_env({"AMADEUS_REGISTRY": "s3://a/b", "AMADEUS_REGISTRY_URI": "s3://c/d"}).uri == "s3://a/b"
    )
