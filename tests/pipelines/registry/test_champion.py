"""The champion in the registry: kept in S3 as conditional, append-only events (moto S3), mirrored to
MLflow's ``champion`` alias (a real mlflow server), where an explicit promote beats a better loss."""

from __future__ import annotations

import json
import threading
import uuid

import pytest

from instrument_agent.personality import NoChampionError, UnknownVersionError
from pipelines.registry import RegistryConfig, S3Registry, open_registry

pytestmark = pytest.mark.slow  # starts moto and an mlflow server


def _registry(s3_endpoint, mlflow_uri=None):
    return open_registry(
        RegistryConfig(
            uri=f"s3://amadeus-test/{uuid.uuid4().hex[:8]}",
            s3_endpoint=s3_endpoint,
            access_key="testing",
            secret_key="testing",
            mlflow_tracking_uri=mlflow_uri,
        )
    )


def test_promote_and_rollback_in_s3(s3_endpoint, make_bundle):
    registry = _registry(s3_endpoint)
    store = registry.store
    assert isinstance(store, S3Registry)
    for seed in range(3):
        registry.publish(make_bundle("cello", seed=seed))
    assert registry.champion("cello") is None and registry.default_version("cello") == 3
    registry.promote("cello", 1)
    registry.promote("cello", 2)
    assert registry.default_version("cello") == 2
    assert registry.promote("cello", 2).action == "promote"  # again: no new event
    keys = [o.object_name for o in store._client.list_objects(store.bucket, prefix=store._key("cello", "champion/"))]
    assert [k.rsplit("/", 1)[1] for k in keys] == ["e000001.json", "e000002.json"]
    event = json.loads(store._get(keys[1]))
    assert (event["action"], event["version"], event["digest"]) == ("promote", 2, store.info("cello", 2).digest)
    assert registry.rollback("cello").version == 1 and registry.default_version("cello") == 1
    with pytest.raises(NoChampionError, match="no earlier champion"):
        registry.rollback("cello")
    with pytest.raises(UnknownVersionError):
        registry.promote("cello", 8)
    # a second reader of the same bucket sees the same champion (it is in the bucket, not in memory)
    again = S3Registry(f"s3://{store.bucket}/{store.prefix}", connection=store.connection)
    assert again.default_version("cello") == 1
    assert [e.action for e in again.champion_history("cello")] == ["promote", "promote", "rollback"]


def test_concurrent_promotes_append_distinct_events(s3_endpoint, make_bundle):
    registry = _registry(s3_endpoint)
    for seed in range(4):
        registry.publish(make_bundle("viola", seed=seed))
    errors = []

    def promote(version):
        try:
            registry.store.promote("viola", version)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=promote, args=(v,)) for v in (1, 2, 3, 4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    history = registry.champion_history("viola")
    assert sorted(e.version for e in history) == [1, 2, 3, 4]  # no event lost to a race
    assert registry.default_version("viola") == history[-1].version


def test_mlflow_alias_follows_an_explicit_promote_and_a_better_loss_no_longer_moves_it(
    s3_endpoint, mlflow_uri, make_bundle
):
    deu = f"cello-{uuid.uuid4().hex[:6]}"
    registry = _registry(s3_endpoint, mlflow_uri)
    registry.publish(make_bundle(deu, seed=1, loss=5.0))
    registry.publish(make_bundle(deu, seed=2, loss=4.0))  # better: champion by loss
    catalog = registry.catalog
    assert catalog.alias(deu, "champion").tags["amadeus.version"] == "2"
    registry.promote(deu, 1)  # the ama prefers v1
    assert catalog.alias(deu, "champion").tags["amadeus.version"] == "1"
    registry.publish(make_bundle(deu, seed=3, loss=1.0))  # much better loss: the ama's choice stands
    assert catalog.alias(deu, "champion").tags["amadeus.version"] == "1"
    registry.promote(deu, 3)
    registry.rollback(deu)
    champion = catalog.alias(deu, "champion")
    assert champion.tags["amadeus.version"] == "1" and "amadeus.champion.promoted" in champion.tags
    model = catalog.client.get_registered_model(catalog.model_name(deu))
    assert model.tags["amadeus.champion.pinned"] == "true" and model.tags["amadeus.champion.version"] == "1"
    recorded = json.loads(model.tags["amadeus.champion.history"])
    assert [(e["action"], e["version"]) for e in recorded] == [("promote", 1), ("promote", 3), ("rollback", 1)]
