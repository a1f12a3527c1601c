"""``amadeus registry promote | rollback | champion`` against the configured registry (S3 on moto)."""

from __future__ import annotations

import uuid

import pytest

from instrument_agent.cli import main
from pipelines.registry import RegistryConfig, open_registry

pytestmark = pytest.mark.slow  # moto S3


def test_promote_and_rollback_through_the_cli(s3_endpoint, make_bundle, monkeypatch, capsys):
    uri = f"s3://amadeus-test/{uuid.uuid4().hex[:8]}"
    for key, value in {"AMADEUS_REGISTRY": uri, "AMADEUS_S3_ENDPOINT": s3_endpoint}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    registry = open_registry(RegistryConfig.from_env())
    for seed in range(2):
        registry.publish(make_bundle("cello", seed=seed))
    assert main(["registry", "promote", "cello", "1"]) == 0
    assert main(["registry", "promote", "cello", "2"]) == 0
    assert main(["registry", "rollback", "cello"]) == 0
    assert "champion cello v1" in capsys.readouterr().out.splitlines()[-1]
    assert main(["registry", "champion", "cello"]) == 0
    out = capsys.readouterr().out
    assert "plays v1 by default" in out and "promote  v2" in out and "rollback v1" in out
    assert main(["registry", "rollback", "cello"]) == 2
    assert "no earlier champion" in capsys.readouterr().err
    assert open_registry(RegistryConfig.from_env()).default_version("cello") == 1
