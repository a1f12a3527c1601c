"""Fault injection: writer processes publish to one ``S3Registry`` prefix on moto's S3 server at
once while a seeded RNG SIGKILLs 20 of them at random moments (a seeded delay after its own
0-2nd publish: claiming a number, uploading files, before or after the commit marker). No version a
writer reported is lost or listed twice, every listed version pulls and verifies, and a claim left without its
commit marker is never listed as a version."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
import time
import uuid

import pytest
from _faults import KILLS

from pipelines.registry import S3Registry

pytestmark = [pytest.mark.faults, pytest.mark.slow, pytest.mark.timeout(300)]

SEED, KILL_POINTS, WRITERS, VERSIONS_EACH = 13, 20, 26, 3
# A doomed writer has more to publish than it can before its kill point (after 0-2 of its own
# publishes plus up to 0.15 s): on an idle machine 3 publishes could end before a wall-clock delay.
DOOMED_VERSIONS = 50

WRITER = """
import sys
from instrument_agent.personality.store import PersonalityStore
from pipelines.registry import S3Registry
bundle = PersonalityStore(sys.argv[3]).get("cello", int(sys.argv[5]))
registry = S3Registry(sys.argv[1], endpoint=sys.argv[2], access_key="testing", secret_key="testing")
registry.versions("cello")  # minio loaded and connected: what follows is publishing
print("ready", flush=True)
for _ in range(int(sys.argv[4])):
    info = registry.publish(bundle)
    print("published", info.version, info.digest, flush=True)
"""


def test_s3_writers_killed_at_20_points_lose_no_version(s3_endpoint, make_bundle, tmp_path):
    bundle = make_bundle("cello", seed=1)
    uri = f"s3://amadeus-test/f-{uuid.uuid4().hex[:8]}/personalities"
    rng = random.Random(SEED)
    doomed = set(rng.sample(range(WRITERS), KILL_POINTS))
    writers = []
    for i in range(WRITERS):
        process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                WRITER,
                uri,
                s3_endpoint,
                str(tmp_path / "home"),
                str(DOOMED_VERSIONS if i in doomed else VERSIONS_EACH),
                str(bundle.version),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        writers.append((process, (rng.randrange(3), rng.uniform(0.0, 0.15)) if i in doomed else None))
    killed: list[bool] = []
    seen: dict[int, list[str]] = {}

    def kill_later(process: subprocess.Popen, point: tuple[int, float]) -> None:
        """SIGKILL ``process`` a delay after its own n-th publish (n = 0: after it is ready)."""
        after, delay = point
        assert process.stdout is not None and process.stdout.readline() == "ready\n"
        lines = seen.setdefault(process.pid, [])
        while len(lines) < after:
            lines.append(process.stdout.readline())
        time.sleep(delay)
        if process.poll() is None:
            process.kill()
            killed.append(True)

    killers = [threading.Thread(target=kill_later, args=(p, d)) for p, d in writers if d is not None]
    for killer in killers:  # each doomed writer is killed a seeded delay into its publishing
        killer.start()
    for killer in killers:
        killer.join()
    reported: dict[int, str] = {}
    for process, delay in writers:
        out, err = process.communicate(timeout=240)
        if delay is None:
            assert process.returncode == 0, err
        for line in [*seen.get(process.pid, []), *out.splitlines()]:
            line = line.strip()
            if line in ("ready", ""):
                continue
            _, version, digest = line.split()
            assert int(version) not in reported, f"version {version} reported twice"
            reported[int(version)] = digest
    registry = S3Registry(uri, endpoint=s3_endpoint, access_key="testing", secret_key="testing")
    listed = {info.version: info.digest for info in registry.versions("cello")}
    assert len(listed) == len(registry.versions("cello"))  # none listed twice
    assert reported.items() <= listed.items()  # no version a writer reported is lost
    assert len(listed) >= (WRITERS - KILL_POINTS) * VERSIONS_EACH
    for version, digest in listed.items():  # every listed version verifies
        assert registry.pull("cello", version, tmp_path / "pulled" / str(version)).digest == digest
    claims = {int(key.rsplit("/v", 1)[1]) for key in registry._list(registry._key("cello", "claims") + "/")}
    assert set(listed) <= claims  # a claim without a commit marker is never listed
    assert len(claims) > (WRITERS - KILL_POINTS) * VERSIONS_EACH  # some kills came after their writer's claim
    assert len(killed) == KILL_POINTS, len(killed)  # every kill point found its writer publishing
    KILLS["concurrent S3 writers"] += len(killed)
    print(f"S3 writers: {len(killed)} killed, {len(listed)} versions, {len(claims - set(listed))} abandoned claims")
