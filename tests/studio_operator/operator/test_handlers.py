"""The real kopf handlers against the emulated API server and the KFP API double."""

from __future__ import annotations

import asyncio
import json

import pytest
from _personalities import publishing_executor, seed_version
from conftest import NAMESPACE, wait_for

from instrument_agent.store import PersonalityStore
from studio_operator.operator.kfp_backend import KfpBackend
from studio_operator.operator.practice import PracticeRequest

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(60)]


def _phase(cluster, name):
    return cluster.status(name).get("phase")


def _condition(cluster, name, type_):
    for cond in cluster.status(name).get("conditions") or ():
        if cond["type"] == type_:
            return cond
    return None


async def test_tuning_practice_end_to_end_publishes_a_new_version(cluster, kfp_api, start_operator, amadeus_home):
    seed_version(amadeus_home, "cello")
    kfp_api.executor = publishing_executor(amadeus_home)
    await start_operator(kfp_host=kfp_api.url)

    created = await cluster.apply("brighter", {"deu": "cello", "type": "tuning", "playerProfile": {"gainDb": -6, "harmonicTilt": 2}})

    await wait_for(lambda: _phase(cluster, "brighter") == "Succeeded")
    status = cluster.status("brighter")
    assert status["version"] == 2
    assert status["runName"] == f"practice-{created['metadata']['uid']}"
    assert status["runId"] == kfp_api.created[0]["run_id"]
    assert status["observedGeneration"] == 1 and status["startTime"] and status["completionTime"]
    assert _condition(cluster, "brighter", "Succeeded")["status"] == "True"

    # The run was really submitted with the practice's parameters, once.
    assert len(kfp_api.created) == 1
    params = kfp_api.created[0]["runtime_config"]["parameters"]
    assert params["deu"] == "cello" and params["practice_id"] == created["metadata"]["uid"]
    assert json.loads(params["player_profile_json"]) == {"gainDb": -6, "harmonicTilt": 2, "configured": True}

    # ... and the new version is a real personality with the new playerProfile and its lineage.
    bundle = PersonalityStore(amadeus_home).get("cello", 2)
    assert bundle.manifest.player_profile.gain_db == -6
    assert bundle.manifest.parent_version == 1
    assert bundle.manifest.practice.practice_id == created["metadata"]["uid"]

    reasons = await wait_for(lambda: {e["reason"] for e in cluster.events("brighter")} >= {"Submitted", "Succeeded"})
    assert reasons
