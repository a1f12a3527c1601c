"""Feedback and tuning practices sent over gRPC to a real ``amadeus studio serve`` process: the
new version lands in the ama's own store (the tenant home, not ``$AMADEUS_HOME``), and a
practice that fails reports a sentence meant for the ama, not a Python exception repr."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections import deque
from pathlib import Path

import numpy as np
import pytest
import soundfile
from _studio_support import TOKENS, install, write_tokens

from instrument_agent.client.studio_client import StudioClient
from instrument_agent.engine import Engine
from instrument_agent.personality.store import PersonalityStore
from instrument_agent.profiles import default_player_profile
from instrument_agent.proto import personality_pb2, studio_pb2
from instrument_agent.render import transfer_timbre

pytestmark = pytest.mark.slow

Phase = studio_pb2.PracticeProgress.Phase
SR, FR = 16000, 50


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(tmp_path_factory, cello_bundle):
    """``amadeus studio serve`` in its own process; alice owns cello v1. Its ``$AMADEUS_HOME`` is
    another folder, so a version found in alice's tenant home came through her store."""
    root = tmp_path_factory.mktemp("served")
    home = root / "studio"
    install(cello_bundle, PersonalityStore(home / "tenants" / "alice"))
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "instrument_agent.cli",
        "studio",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--metrics-port",
        "-1",
        "--tokens",
        str(write_tokens(root / "tokens.yaml")),
        "--home",
        str(home),
    ]
    env = {
        **os.environ,
        "AMADEUS_HOME": str(root / "environment-home"),
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "CUDA_VISIBLE_DEVICES": "",
    }
    for var in ("AMADEUS_REGISTRY", "AMADEUS_REGISTRY_URI", "MLFLOW_TRACKING_URI", "AMADEUS_MLFLOW_TRACKING_URI"):
        env.pop(var, None)
    log = open(root / "studio.log", "wb")
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 60
    while time.time() < deadline:
        if process.poll() is not None:
            pytest.fail(f"studio server exited: {(root / 'studio.log').read_text()[-3000:]}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.2)
    else:
        process.kill()
        pytest.fail("studio server did not start within 60 s")
    client = StudioClient(f"127.0.0.1:{port}", token=TOKENS["alice"], timeout=30)
    try:
        yield client, home / "tenants" / "alice", root / "environment-home"
    finally:
        client.close()
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def _final(client: StudioClient, practice_id: str, timeout: float = 240.0) -> studio_pb2.PracticeProgress:
    """The practice's last state (the watch ends when it does)."""
    (last,) = deque(client.watch(practice_id, timeout=timeout), maxlen=1)
    return last


def _performance(bundle, path: Path, seconds: float = 6.0) -> Path:
    """A performance of ``bundle`` rendered by the engine: its first half played bright
    (+4 dB/oct), its second half dull (-6 dB/oct)."""
    t = np.arange(int(seconds * FR)) / FR
    f0 = 220.0 * 2 ** (0.15 * np.sin(2 * np.pi * 5 * t) / 12)
    loudness = -24.0 + 3.0 * np.sin(2 * np.pi * 0.5 * t)
    halves = []
    for tilt in (4.0, -6.0):
        player = default_player_profile()
        player.harmonic_tilt = tilt
        engine = Engine.from_bundle(bundle, sample_rate=SR, backend="numpy", player_profile=player)
        halves.append(transfer_timbre(engine, f0, loudness)[: len(f0) * SR // FR])
    half = len(halves[0]) // 2
    soundfile.write(str(path), np.concatenate([halves[0][:half], halves[1][half:]]), SR, subtype="FLOAT")
    return path


def test_a_feedback_practice_publishes_into_the_amas_store(served, cello_bundle, tmp_path):
    client, tenant, environment_home = served
    before = [v.version for v in client.list_personalities("cello")]
    performance = _performance(cello_bundle, tmp_path / "take-1.wav")
    ticket = client.practice(
        "cello", "feedback", performance=performance, regions=[(1.0, 2.5, "good"), (4.0, 5.0, "bad")]
    )
    final = _final(client, ticket.practice_id)
    assert final.phase == Phase.SUCCEEDED, final.message
    assert final.type == personality_pb2.PracticeRecord.FEEDBACK and final.version == max(before) + 1

    store = PersonalityStore(tenant)
    new = store.get("cello", final.version)  # verified
    assert new.digest == final.digest and store.info("cello", final.version).digest == final.digest
    practice = new.manifest.practice
    assert practice.kind == personality_pb2.PracticeRecord.FEEDBACK and practice.practice_id == ticket.practice_id
    assert [(r["start"], r["end"], r["label"]) for r in json.loads(practice.params["regions"])] == [
        (1.0, 2.5, "good"),
        (4.0, 5.0, "bad"),
    ]
    knobs_before, knobs_after = (json.loads(practice.params[k]) for k in ("knobs_before", "knobs_after"))
    assert knobs_after["harmonic_tilt"] > knobs_before["harmonic_tilt"]  # toward the liked bright half
    assert new.manifest.player_profile.harmonic_tilt == pytest.approx(knobs_after["harmonic_tilt"], abs=1e-3)
    assert [e.sha256 for e in new.manifest.files] == [e.sha256 for e in cello_bundle.manifest.files]  # no training
    assert new.manifest.parent_version == final.version - 1
    assert not (environment_home / "personalities").exists()  # not the environment's registry


def test_a_feedback_practice_runs_the_method_it_asks_for(served, cello_bundle, tmp_path):
    """``feedback_method`` and ``finetune_steps`` of the request reach the embedded practice: asked for
    knobs, the record says so and no model file changes; asked to fine-tune 2 steps, it trains exactly
    that long and the model files are new."""
    client, tenant, _ = served
    performance = _performance(cello_bundle, tmp_path / "take-2.wav")
    regions = [(1.0, 2.5, "good"), (4.0, 5.0, "bad")]
    store = PersonalityStore(tenant)
    knobs = _final(
        client,
        client.practice(
            "cello", "feedback", performance=performance, regions=regions, feedback_method="knobs"
        ).practice_id,
    )
    assert knobs.phase == Phase.SUCCEEDED, knobs.message
    record = store.get("cello", knobs.version).manifest
    assert (record.practice.params["method_requested"], record.practice.params["method"]) == ("knobs", "knobs")
    assert [e.sha256 for e in record.files] == [e.sha256 for e in cello_bundle.manifest.files]

    tuned = _final(
        client,
        client.practice(
            "cello", "feedback", performance=performance, regions=regions, feedback_method="finetune", finetune_steps=2
        ).practice_id,
    )
    assert tuned.phase == Phase.SUCCEEDED, tuned.message
    record = store.get("cello", tuned.version).manifest
    assert (record.practice.params["method_requested"], record.practice.params["method"]) == ("finetune", "finetune")
    finetune = json.loads(record.practice.params["finetune"])
    assert finetune["settings"]["steps"] == 2 and finetune["steps_run"] == 2
    assert [e.sha256 for e in record.files] != [e.sha256 for e in cello_bundle.manifest.files]


def test_a_tuning_practice_publishes_a_new_version_at_once(served):
    client, tenant, environment_home = served
    parent = max(v.version for v in client.list_personalities("cello"))
    ticket = client.practice("cello", "tuning", player_profile=personality_pb2.PlayerProfile(harmonic_tilt=-3.0))
    final = _final(client, ticket.practice_id, timeout=60)
    assert final.phase == Phase.SUCCEEDED, final.message
    assert final.type == personality_pb2.PracticeRecord.TUNING and final.version == parent + 1
    manifest = PersonalityStore(tenant).get("cello", final.version).manifest
    assert manifest.player_profile.harmonic_tilt == pytest.approx(-3.0) and manifest.parent_version == parent
    assert manifest.practice.kind == personality_pb2.PracticeRecord.TUNING
    assert manifest.practice.practice_id == ticket.practice_id and manifest.practice.runner == "embedded"
    assert not (environment_home / "personalities").exists()


def test_a_failing_practice_reports_a_sentence_for_the_ama(served, cello_bundle, tmp_path):
    client, tenant, _ = served
    versions = [v.version for v in client.list_personalities("cello")]
    performance = _performance(cello_bundle, tmp_path / "short-take.wav")
    ticket = client.practice("cello", "feedback", performance=performance, regions=[(5.0, 7.5, "good")])
    final = _final(client, ticket.practice_id)
    assert final.phase == Phase.FAILED
    assert "the performance is only 6.00 s long" in final.message, final.message
    assert "Error:" not in final.message and "Traceback" not in final.message and str(tenant) not in final.message
    assert [v.version for v in client.list_personalities("cello")] == versions  # nothing published
