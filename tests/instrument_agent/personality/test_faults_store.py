"""Fault injection: concurrent writers on one local store, killed for real. Writer processes
commit versions of the same deu at once while a seeded RNG SIGKILLs or SIGINTs 20 of them at
random moments (during the import, while writing a bundle, between the rename and the index).
No version a writer reported committed is lost, none is listed twice, every listed version
verifies, and a half-written one never becomes visible."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest
from _faults import KILLS

from instrument_agent.personality.store import PersonalityStore

pytestmark = [pytest.mark.faults, pytest.mark.timeout(300)]

SEED, KILL_POINTS, WRITERS, VERSIONS_EACH = 7, 20, 28, 4
DOOMED_VERSIONS = 200  # more than a doomed writer can commit before its kill point, on any machine

WRITER = """
import os, sys
from instrument_agent.personality.store import PersonalityStore
from instrument_agent.proto import personality_pb2
store = PersonalityStore(sys.argv[1])
for _ in range(int(sys.argv[2])):
    manifest = personality_pb2.PersonalityManifest(sample_rate=16000, frame_rate=50)
    bundle = store.commit("cello", manifest, {"decoder.npz": os.urandom(1 << 20), "reverb_ir.npy": os.urandom(4096)})
    print("committed", bundle.version, bundle.digest, flush=True)
"""


def test_concurrent_writers_killed_at_20_points_lose_no_version(tmp_path):
    home, rng = tmp_path / "home", random.Random(SEED)
    doomed = set(rng.sample(range(WRITERS), KILL_POINTS))
    writers = []
    for i in range(WRITERS):
        process = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(home), str(DOOMED_VERSIONS if i in doomed else VERSIONS_EACH)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        kill_at = time.monotonic() + rng.uniform(0.2, 2.5) if i in doomed else None
        writers.append((process, kill_at, rng.choice([signal.SIGKILL, signal.SIGINT])))
    killed = 0
    for process, kill_at, sig in sorted(writers, key=lambda w: w[1] or float("inf")):
        if kill_at is not None:
            time.sleep(max(0.0, kill_at - time.monotonic()))
            if process.poll() is None:
                process.send_signal(sig)
                killed += 1
    reported: dict[int, str] = {}
    for process, kill_at, _ in writers:
        out, err = process.communicate(timeout=240)
        if kill_at is None:
            assert process.returncode == 0, err
        else:
            assert "Traceback" not in err or "KeyboardInterrupt" in err, err
        for line in out.splitlines():
            _, version, digest = line.split()
            assert int(version) not in reported, f"version {version} reported twice"
            reported[int(version)] = digest
    store = PersonalityStore(home)
    listed = {info.version: info.digest for info in store.versions("cello")}
    assert reported.items() <= listed.items()  # no version a writer reported is lost
    indexed = [
        row["version"] for row in json.loads((home / "personalities" / "cello" / "index.json").read_text())["versions"]
    ]
    assert len(indexed) == len(set(indexed)) and len(indexed) >= (WRITERS - KILL_POINTS) * VERSIONS_EACH
    for version in listed:
        store.get("cello", version)  # every listed version verifies
    assert killed == KILL_POINTS, killed  # every kill point found its writer still committing
    KILLS["concurrent store writers"] += killed
