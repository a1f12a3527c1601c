"""End to end: create a Practice → the operator submits the real pipeline → the run executes → Succeeded."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile
from _operator_harness import wait_for
from _pipeline_runs import graph_executor

from instrument_agent.personality.store import PersonalityStore
from instrument_agent.proto import personality_pb2

pytestmark = [pytest.mark.asyncio, pytest.mark.slow, pytest.mark.timeout(180)]

#: A tiny learnerProfile in the CRD's JSON names: 3 training steps of a small model.
TINY = {
    "steps": 3,
    "hiddenSize": 32,
    "gruUnits": 32,
    "nHarmonics": 20,
    "nNoiseBands": 17,
    "exampleSeconds": 1.0,
    "batchSize": 2,
    "reverb": False,
    "f0Method": "yin",
    "holdoutFraction": 0.2,
    "checkpointEvery": 100,
}


@pytest.fixture
def bowed_take(tmp_path) -> Path:
    """5 s of a synthetic bowed string (22.05 kHz mono WAV)."""
    from pipelines.demo.score import practice_score
    from pipelines.demo.voice import bowed_string

    path = tmp_path / "takes" / "bowed.wav"
    path.parent.mkdir()
    soundfile.write(str(path), bowed_string(practice_score(5.0, seed=3), 22050, seed=3), 22050)
    return path


async def test_imitation_practice_runs_its_pipeline_and_reports_the_new_version(
    cluster, kfp_api, start_operator, amadeus_home, bowed_take, tmp_path
):
    from studio_operator.operator.kfp_backend import compile_with_pipelines

    kfp_api.executor = graph_executor(amadeus_home, tmp_path / "kfp-runs")
    await start_operator(kfp_host=kfp_api.url, compile_fn=compile_with_pipelines, image="studio:test")

    created = await cluster.apply(
        "first-cello", {"deu": "cello", "type": "imitation", "audio": [str(bowed_take)], "learnerProfile": TINY}
    )
    uid = created["metadata"]["uid"]
    await wait_for(lambda: cluster.status("first-cello").get("phase") in ("Succeeded", "Failed"), timeout=150)

    status = cluster.status("first-cello")
    assert status["phase"] == "Succeeded", status
    assert status["version"] == 1 and status["message"] == "deu 'cello' version 1"
    # The run that executed is the one the operator submitted through kfp.Client, once, with the real pipeline.
    (run,) = kfp_api.created
    assert status["runId"] == run["run_id"] and kfp_api.runs[run["run_id"]]["state"] == "SUCCEEDED"
    params = run["runtime_config"]["parameters"]
    assert json.loads(params["audio_uris"]) == [str(bowed_take)] and json.loads(params["learner_profile_json"]) == TINY
    ir = run["pipeline_spec"].get("pipeline_spec", run["pipeline_spec"])
    assert ir["pipelineInfo"]["name"] == "amadeus-imitation"
    assert set(ir["root"]["dag"]["tasks"]) >= {"ingest", "features", "train", "evaluate"}

    # The new version is a real personality trained on the take, recording this practice.
    bundle = PersonalityStore(amadeus_home).get("cello", 1)
    manifest = bundle.manifest
    assert manifest.practice.practice_id == uid and manifest.practice.kind == personality_pb2.PracticeRecord.IMITATION
    assert manifest.learner_profile.steps == 3 and manifest.learner_profile.hidden_size == 32
    assert {"eval/spectral_loss", "baseline/sine"} <= set(manifest.metrics)
    assert status["metrics"] == pytest.approx({k: float(v) for k, v in manifest.metrics.items()})
    assert all(np.isfinite(v) for v in status["metrics"].values())
    await wait_for(lambda: {e["reason"] for e in cluster.events("first-cello")} >= {"Submitted", "Succeeded"})
