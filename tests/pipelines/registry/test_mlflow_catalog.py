"""The MLflow side of the registry against a real ``mlflow server`` process."""

from __future__ import annotations

import uuid

import pytest

from pipelines.registry import MlflowCatalog, Registry, RegistryConfig, S3Registry, open_registry

pytestmark = pytest.mark.slow  # starts an mlflow server (a few seconds, once per session)


def test_every_version_is_a_model_version_with_lineage_and_aliases(mlflow_uri, s3_endpoint, make_bundle, tmp_path):
    deu = f"cello-{uuid.uuid4().hex[:6]}"
    registry = open_registry(
        RegistryConfig(
            uri=f"s3://amadeus-test/{uuid.uuid4().hex[:8]}",
            s3_endpoint=s3_endpoint,
            access_key="testing",
            secret_key="testing",
            mlflow_tracking_uri=mlflow_uri,
        )
    )
    assert isinstance(registry.store, S3Registry) and isinstance(registry.catalog, MlflowCatalog)
    first = registry.publish(make_bundle(deu, seed=1, loss=5.0))
    second = registry.publish(make_bundle(deu, seed=2, loss=6.5))  # worse: latest moves, champion stays
    third = registry.publish(make_bundle(deu, seed=3, loss=4.0))  # better: both move

    catalog = registry.catalog
    versions = catalog.versions(deu)
    assert [mv.tags["amadeus.version"] for mv in versions] == ["1", "2", "3"]
    assert [mv.tags["amadeus.digest"] for mv in versions] == [first.digest, second.digest, third.digest]
    assert versions[0].tags["amadeus.store_uri"].endswith(f"/{deu}/v000001")
    assert catalog.alias(deu, "latest").tags["amadeus.version"] == "3"
    assert catalog.alias(deu, "champion").tags["amadeus.version"] == "3"

    run = catalog.client.get_run(versions[1].run_id)
    assert run.data.metrics["eval/spectral_loss"] == pytest.approx(6.5)
    assert run.data.params["learner.n_harmonics"] == "20" and run.data.params["player.reverb_mix"] == "1.0"
    assert run.data.params["learner.fft_sizes"] == "2048,1024,512,256,128,64"
    artifacts = {a.path for a in catalog.client.list_artifacts(versions[1].run_id, "personality")}
    assert {"personality/manifest.pb", "personality/decoder.npz"} <= artifacts

    # Registration is idempotent: syncing registers nothing new.
    assert registry.sync_catalog(deu) == [mv.version for mv in versions]


def test_champion_keeps_the_best_loss(mlflow_uri, make_bundle, tmp_path):
    deu = f"oboe-{uuid.uuid4().hex[:6]}"
    registry = Registry(
        __import__("pipelines.registry", fromlist=["LocalRegistry"]).LocalRegistry(tmp_path / "home"),
        MlflowCatalog(mlflow_uri),
    )
    make_bundle(deu, seed=1, loss=3.0)  # lands in the same local store (already published there)
    registry.sync_catalog(deu)
    registry.publish(make_bundle(deu, seed=2, loss=3.5, home=tmp_path / "elsewhere"))
    assert registry.catalog.alias(deu, "champion").tags["amadeus.version"] == "1"
    assert registry.catalog.alias(deu, "latest").tags["amadeus.version"] == "2"
