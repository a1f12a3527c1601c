"""The operator's catalog over the S3 registry (moto's S3 server), per ama; the operator watching every namespace."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from _operator_harness import wait_for  # noqa: E402
from _personalities import seed_version  # noqa: E402

from instrument_agent.personality.store import PersonalityStore  # noqa: E402
from pipelines.registry import Backoff, S3Registry  # noqa: E402
from studio_operator.operator.catalog import (  # noqa: E402
    CatalogUnavailableError,
    StoreCatalog,
    UnknownBaseError,
)
from studio_operator.operator.config import ConfigError, OperatorConfig  # noqa: E402
from studio_operator.operator.practice import PracticeRequest  # noqa: E402
from studio_operator.operator.registry_catalog import (  # noqa: E402
    AMA_LABEL,
    RegistryCatalog,
    catalog_for,
    registry_uri_for,
)


def test_registry_uri_per_ama_matches_the_studio_tenant_layout():
    from studio_operator.server.backends.cluster.practice_resources import AMA_LABEL as STUDIO_LABEL

    assert AMA_LABEL == STUDIO_LABEL == "amadeus.dev/ama"
    assert registry_uri_for("s3://amadeus/personalities", "") == "s3://amadeus/personalities"
    assert registry_uri_for("s3://amadeus/personalities", "alice") == "s3://amadeus/tenants/alice/personalities"
    assert registry_uri_for("s3://b/studio/personalities", "bob") == "s3://b/studio/tenants/bob/personalities"
    assert registry_uri_for("s3://b/root", "bob") == "s3://b/root/tenants/bob/personalities"
    assert registry_uri_for("", "alice") == ""  # a local store has no tenants


def test_the_studio_cluster_store_reads_the_registry_the_operator_checks(tmp_path):
    from studio_operator.server.backends.cluster.store import ClusterObjectStore

    objects = ClusterObjectStore("http://127.0.0.1:9", bucket="amadeus", cache_home=tmp_path)  # no request is made
    assert objects.registry_uri("alice") == registry_uri_for("s3://amadeus/personalities", "alice")
    assert objects.registry_uri("") == registry_uri_for("s3://amadeus/personalities", "")


def test_configuration_selects_the_catalog(tmp_path):
    assert isinstance(catalog_for(OperatorConfig(store_home=str(tmp_path))), StoreCatalog)
    catalog = catalog_for(OperatorConfig(registry_uri="s3://amadeus/personalities", s3_endpoint="http://127.0.0.1:9"))
    assert isinstance(catalog, RegistryCatalog)
    with pytest.raises(ConfigError, match="needs AMADEUS_S3_ENDPOINT"):
        catalog_for(OperatorConfig(registry_uri="s3://amadeus/personalities"))


def test_practice_request_carries_the_ama_label():
    body = {
        "metadata": {"name": "p", "namespace": "amadeus-alice", "uid": "u-1", "labels": {AMA_LABEL: "alice"}},
        "spec": {"deu": "cello", "type": "tuning"},
    }
    assert PracticeRequest.from_body(body).ama == "alice"
    assert PracticeRequest.from_body({**body, "metadata": {"name": "p", "uid": "u"}}).ama == ""


def _publish(s3_endpoint: str, uri: str, home: Path, deu: str, *, practice_id: str, metrics=None) -> int:
    """Commit a real bundle locally and publish it into the S3 registry at ``uri``."""
    local = seed_version(home, deu, practice_id=practice_id, metrics=metrics)
    bundle = PersonalityStore(home).get(deu, local)
    return S3Registry(uri, endpoint=s3_endpoint).publish(bundle).version


def test_check_base_and_published_by_read_the_ama_registry(s3_endpoint, tmp_path):
    bucket = f"studio-{uuid.uuid4().hex[:8]}"
    root = f"s3://{bucket}/personalities"
    _publish(s3_endpoint, registry_uri_for(root, "alice"), tmp_path / "a", "cello", practice_id="seed")
    version = _publish(
        s3_endpoint,
        registry_uri_for(root, "alice"),
        tmp_path / "a",
        "cello",
        practice_id="pr-7",
        metrics={"eval/spectral_loss": 1.5},
    )
    catalog = RegistryCatalog(root, s3_endpoint=s3_endpoint)

    catalog.check_base("cello", "tuning", None, ama="alice")
    catalog.check_base("cello", "tuning", 1, ama="alice")
    with pytest.raises(
        UnknownBaseError, match=r"no version 9 in s3://.*/tenants/alice/personalities \(versions: 1, 2\)"
    ) as err:
        catalog.check_base("cello", "tuning", 9, ama="alice")
    assert err.value.reason == "UnknownVersion"
    # Another ama (and the untenanted registry) have no cello: their practices cannot tune it.
    with pytest.raises(UnknownBaseError, match="'cello' has no personality yet") as err:
        catalog.check_base("cello", "tuning", None, ama="bob")
    assert err.value.reason == "UnknownDeu"
    with pytest.raises(UnknownBaseError):
        catalog.check_base("cello", "feedback", None)
    catalog.check_base("cello", "imitation", None, ama="bob")  # a first imitation needs nothing

    published = catalog.published_by("cello", "pr-7", ama="alice")
    assert published is not None and published.version == version == 2
    assert published.metrics == {"eval/spectral_loss": 1.5}
    assert catalog.published_by("cello", "pr-7", ama="bob") is None
    assert catalog.published_by("cello", "pr-unknown", ama="alice") is None


def test_an_unreachable_registry_is_retryable_not_unknown():
    catalog = RegistryCatalog(
        "s3://amadeus/personalities",
        s3_endpoint="http://127.0.0.1:9",
        backoff=Backoff(attempts=2, base_delay=0.01, max_delay=0.02),
    )
    with pytest.raises(CatalogUnavailableError, match="127.0.0.1:9"):
        catalog.check_base("cello", "tuning", None, ama="alice")


@pytest.mark.asyncio
@pytest.mark.timeout(60)
async def test_cluster_wide_operator_publishes_into_the_ama_registry(
    cluster, kfp_api, start_operator, s3_endpoint, tmp_path
):
    """The studio's cluster backend puts an ama's Practices in ``amadeus-<ama>`` with the ama label:
    an operator watching every namespace submits it with the ama's registry, and reports the
    version the run published there."""
    bucket = f"studio-{uuid.uuid4().hex[:8]}"
    root = f"s3://{bucket}/personalities"
    _publish(s3_endpoint, registry_uri_for(root, "alice"), tmp_path / "seed", "cello", practice_id="seed")

    def push_into_the_given_registry(run):  # the pipeline's push step, to the registry_uri it was given
        params = run["runtime_config"]["parameters"]
        _publish(
            s3_endpoint,
            params["registry_uri"],
            tmp_path / "run",
            params["deu"],
            practice_id=params["practice_id"],
            metrics={"eval/spectral_loss": 0.75},
        )
        return "SUCCEEDED", ""

    kfp_api.executor = push_into_the_given_registry
    await start_operator(
        kfp_host=kfp_api.url,
        namespaces=(),
        registry_uri=root,
        s3_endpoint=s3_endpoint,
        catalog=RegistryCatalog(root, s3_endpoint=s3_endpoint),
    )
    body = {
        "apiVersion": "amadeus.dev/v1alpha1",
        "kind": "Practice",
        "metadata": {"name": "pr-brighter", "namespace": "amadeus-alice", "labels": {AMA_LABEL: "alice"}},
        "spec": {"deu": "cello", "type": "tuning", "playerProfile": {"gainDb": -3}},
    }
    async with cluster.session.post(
        f"{cluster.url}/apis/amadeus.dev/v1alpha1/namespaces/amadeus-alice/practices", json=body
    ) as response:
        assert response.status < 300, await response.text()
    await cluster.apply(
        "pr-nothing", {"deu": "cello", "type": "tuning", "playerProfile": {"gainDb": 1}}, namespace="amadeus-bob"
    )

    await wait_for(lambda: cluster.status("pr-brighter", "amadeus-alice").get("phase") == "Succeeded")
    status = cluster.status("pr-brighter", "amadeus-alice")
    assert status["version"] == 2 and status["metrics"] == {"eval/spectral_loss": 0.75}
    (run,) = kfp_api.created
    assert run["runtime_config"]["parameters"]["registry_uri"] == f"s3://{bucket}/tenants/alice/personalities"

    # Without the label, the Practice is checked against the untenanted registry: no cello there.
    await wait_for(lambda: cluster.status("pr-nothing", "amadeus-bob").get("phase") == "Failed")
    assert "'cello' has no personality yet" in cluster.status("pr-nothing", "amadeus-bob")["message"]
    assert len(kfp_api.created) == 1
