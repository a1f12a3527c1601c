"""Real personality versions in a real store, for the operator tests.

``seed_version`` commits a small bundle (random decoder weights); the executor
from :func:`publishing_executor` does a practice's push step through the same
store: a tuning derives the parent with the new playerProfile (the real
no-training tuning path of ``PersonalityStore.derive``), an imitation or
feedback commits a new bundle with its metrics. Each records the practice id,
as the pipeline's push step does, so the operator can find the version.
"""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np
from google.protobuf import json_format

from instrument_agent.personality.store import PersonalityStore
from instrument_agent.proto import personality_pb2

_KINDS = {
    "imitation": personality_pb2.PracticeRecord.IMITATION,
    "tuning": personality_pb2.PracticeRecord.TUNING,
    "feedback": personality_pb2.PracticeRecord.FEEDBACK,
}


def _weights(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    buffer = io.BytesIO()
    np.savez(buffer, **{"dense/kernel": rng.standard_normal((8, 4)).astype(np.float32)})
    return buffer.getvalue()


def seed_version(home, deu: str, *, practice_id: str = "seed", metrics: dict[str, float] | None = None) -> int:
    """Commit a new version of ``deu`` and return its number."""
    manifest = personality_pb2.PersonalityManifest()
    manifest.practice.kind = personality_pb2.PracticeRecord.IMITATION
    manifest.practice.practice_id = practice_id
    manifest.sample_rate, manifest.frame_rate = 16000, 50
    for key, value in (metrics or {"eval/spectral_loss": 2.5}).items():
        manifest.metrics[key] = value
    store = PersonalityStore(home)
    rows = store.versions(deu)
    if rows:
        manifest.parent_version = rows[-1].version
    return store.commit(deu, manifest, {"decoder.npz": _weights(len(rows))}).version


def publishing_executor(home, practice_type_of: dict[str, str] | None = None):
    """A KFP-double executor that performs the run's push step into the store at ``home``."""

    def execute(run: dict[str, Any]) -> tuple[str, str]:
        params = run["runtime_config"]["parameters"]
        deu, practice_id = params["deu"], params["practice_id"]
        pipeline_name = run["pipeline_spec"].get("pipeline_spec", run["pipeline_spec"])["pipelineInfo"]["name"]
        practice_type = pipeline_name.removeprefix("amadeus-")
        store = PersonalityStore(home)
        record = personality_pb2.PracticeRecord(kind=_KINDS[practice_type], practice_id=practice_id, runner="kfp")
        if practice_type == "tuning":
            base = int(params.get("base_version") or 0) or None
            player = json_format.ParseDict(json.loads(params["player_profile_json"]), personality_pb2.PlayerProfile())
            store.derive(store.get(deu, base), player_profile=player, practice=record)
        else:
            version = seed_version(
                home, deu, practice_id=practice_id, metrics={"eval/spectral_loss": 1.25, "baseline/sine": 3.5}
            )
            assert version
        return "SUCCEEDED", ""

    return execute
