"""The KFP backend against the real practice pipelines' compiler and the KFP API double."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from _operator_doubles import KfpApiDouble
from _operator_harness import fast_config

from studio_operator.operator.backend import BackendUnavailableError
from studio_operator.operator.kfp_backend import (
    KfpBackend,
    PipelineSubmitter,
    compile_with_pipelines,
)
from studio_operator.operator.practice import PracticeRequest


def _request(practice_type: str) -> PracticeRequest:
    return PracticeRequest(
        name="p",
        namespace="studio",
        uid="6f1c0d2e-0000-4000-8000-000000000001",
        generation=1,
        deu="cello",
        type=practice_type,
        audio=("s3://takes/cello.wav",),
    )


@pytest.mark.slow
@pytest.mark.parametrize("practice_type", ["imitation", "tuning", "feedback"])
def test_the_real_pipelines_accept_every_operator_parameter(practice_type, tmp_path):
    path = compile_with_pipelines(
        practice_type,
        str(tmp_path / "p.yaml"),
        image="studio:test",
        accelerator_type="nvidia.com/gpu",
        accelerator_limit=1,
    )
    ir = next(doc for doc in yaml.safe_load_all(Path(path).read_text()) if doc and "root" in doc)
    declared = set(ir["root"]["inputDefinitions"]["parameters"])
    assert set(_request(practice_type).pipeline_parameters()) <= declared


@pytest.mark.slow
def test_submit_compiles_the_real_pipeline_and_is_idempotent(tmp_path):
    with KfpApiDouble(lambda run: ("SUCCEEDED", "")) as kfp:
        backend = KfpBackend(fast_config(kfp_host=kfp.url, pipeline_cache_dir=str(tmp_path)))
        first = backend.submit(_request("imitation"))
        again = backend.submit(_request("imitation"))
        assert again.run_id == first.run_id and len(kfp.created) == 1
        assert kfp.created[0]["display_name"] == "practice-6f1c0d2e-0000-4000-8000-000000000001"


def test_an_unreachable_kfp_api_is_a_retryable_error():
    with pytest.raises(BackendUnavailableError, match="unreachable"):
        PipelineSubmitter("http://127.0.0.1:9").find_run("practice-x")
