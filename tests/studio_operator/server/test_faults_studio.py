"""Fault injection: the ``amadeus studio serve`` process SIGKILLed at seeded points while a client
downloads a personality, while a client uploads a practice's audio and while a practice runs,
then restarted on the same home and port.

* A download resumes from the client's ``.part`` file (it asks for the rest only); the archive
  matches the studio's sha256 and unpacks to the listed digest.
* A practice re-sent with the same ``client_request_id`` is the same practice, its audio whole.
* 20 kill points in all: 8 during downloads, 6 during uploads and 6 while practices run.
* A practice whose studio died while it ran finishes once, publishing one version.

After each, the ama's store verifies and nothing half-written is left under the studio home."""

from __future__ import annotations

import json
import random
import time
from collections import deque

import grpc
import pytest
from _faults import KILLS, ServedStudio
from _studio_support import TOKENS, install, tone_wav, write_tokens

from instrument_agent.client.studio_client import StudioClient, StudioClientError
from instrument_agent.personality import unpack_bundle
from instrument_agent.personality.store import PersonalityStore
from instrument_agent.proto import studio_pb2

pytestmark = [pytest.mark.faults, pytest.mark.slow, pytest.mark.timeout(300)]

# 8 download kills + 2 rounds x (3 upload kills + 3 practice kills) = 20 kill points on the studio.
SEED, DOWNLOAD_KILLS, PRACTICE_ROUNDS, CHUNK = 5, 8, 2, 4096
UPLOAD_KILLS, PRACTICE_KILLS = 3, 3
MAX_ROUNDS = 4  # a practice that ends before its three kills (a fast machine) leaves them to another round


class _Killed(Exception):
    """Raised by the progress callback once the studio has been killed."""


def test_studio_killed_during_downloads_resumes_by_offset(tmp_path, cello_bundle):
    rng = random.Random(SEED)
    home = tmp_path / "studio"
    store = PersonalityStore(home / "tenants" / "alice")
    install(cello_bundle, store)
    studio = ServedStudio(home, write_tokens(tmp_path / "tokens.yaml"), tmp_path / "studio.log").start()
    archive = tmp_path / "client" / "cello.tar"
    try:
        client = StudioClient(studio.address, token=TOKENS["alice"], timeout=30)
        info = client.get_personality("cello", 1)
        assert info.packed_size > 8 * CHUNK, "the bundle must take many chunks"
        cuts = sorted(rng.sample(range(CHUNK, info.packed_size - CHUNK), DOWNLOAD_KILLS))
        starts: list[int] = []
        killed = 0
        for cut in [*cuts, None]:
            first: list[int] = []

            def progress(done: int, total: int, cut=cut, first=first) -> None:
                first.append(done)
                if cut is not None and done >= cut:
                    studio.kill()
                    raise _Killed

            try:
                client.download_archive("cello", archive, version=1, chunk_size=CHUNK, progress=progress)
            except (_Killed, StudioClientError):
                assert cut is not None
                killed += 1
                part = archive.with_name(archive.name + ".part")
                assert cut <= part.stat().st_size < info.packed_size  # what arrived is kept
                client.close()
                studio.start()  # same home, same port
                client = StudioClient(studio.address, token=TOKENS["alice"], timeout=30)
            starts.append(first[0] if first else -1)
        client.close()
        # each download after a kill asked for the rest only: its first chunk ended past the kill
        assert all(start > cut for start, cut in zip(starts[1:], cuts, strict=True)), (starts, cuts)
        unpacked = unpack_bundle(archive.read_bytes(), tmp_path / "unpacked", expected_digest=info.version.digest)
        assert unpacked.digest == store.info("cello", 1).digest
        assert [v.version for v in store.versions("cello")] == [1]
        store.get("cello", 1)  # the studio's copy still verifies
    finally:
        studio.stop()
    assert killed == DOWNLOAD_KILLS
    KILLS["studio during a download"] += killed


def _half_written(tenant) -> list[str]:
    """Staging left under the ama's home: incoming uploads, temporary store files."""
    return sorted(str(p.relative_to(tenant)) for p in tenant.rglob("*") if p.name.startswith((".incoming-", ".tmp")))


def _retry(call, *args, attempts: int = 20, **kwargs):
    """What a client does after its studio restarted: try again while it is UNAVAILABLE."""
    for _ in range(attempts - 1):
        try:
            return call(*args, **kwargs)
        except StudioClientError as exc:
            if exc.code != grpc.StatusCode.UNAVAILABLE:
                raise
            time.sleep(0.25)
    return call(*args, **kwargs)


def _final(client: StudioClient, practice_id: str) -> studio_pb2.PracticeProgress:
    (last,) = deque(client.watch(practice_id, timeout=120), maxlen=1)
    return last


def test_studio_killed_during_uploads_and_practices_finishes_each_once(tmp_path, cello_bundle):
    """Each round kills the studio three times while it receives the audio (the client re-sends
    the practice after each restart), then three times while the re-sent practice runs (its runner
    outlives the studio; the practice is re-sent after each restart and must be the same one). A
    practice costs a runner with TensorFlow, so one practice carries all six kill points."""
    rng = random.Random(SEED + 1)
    home = tmp_path / "studio"
    tenant = home / "tenants" / "alice"
    store = PersonalityStore(tenant)
    install(cello_bundle, store)
    performance = tone_wav(tmp_path / "take.wav", seconds=6.0)
    size = performance.stat().st_size
    studio = ServedStudio(home, write_tokens(tmp_path / "tokens.yaml"), tmp_path / "studio.log").start()
    client = StudioClient(studio.address, token=TOKENS["alice"], timeout=60)
    killed = {"upload": 0, "practice": 0}

    def restart() -> StudioClient:
        client.close()
        studio.start()  # same home, same port
        return StudioClient(studio.address, token=TOKENS["alice"], timeout=60)

    def phase(practice_id: str) -> str:
        return json.loads((tenant / "practices" / practice_id / "status.json").read_text())["phase"]

    try:
        round_ = 0
        while round_ < PRACTICE_ROUNDS or killed["practice"] < PRACTICE_ROUNDS * PRACTICE_KILLS:
            assert round_ < MAX_ROUNDS, f"the practices ended before their kill points: {killed}"
            before = [v.version for v in store.versions("cello")]
            request = dict(
                performance=performance, regions=[(0.5, 2.5, "good"), (3.5, 5.5, "bad")], request_id=f"take-{round_}"
            )
            for cut in sorted(rng.sample(range(CHUNK, size - CHUNK), UPLOAD_KILLS)):

                def progress(done: int, total: int, cut=cut) -> None:
                    if done >= cut:
                        studio.kill()
                        raise _Killed

                with pytest.raises((_Killed, StudioClientError)):
                    _retry(client.practice, "cello", "feedback", chunk_size=CHUNK, progress=progress, **request)
                killed["upload"] += 1
                client = restart()
            ticket = _retry(client.practice, "cello", "feedback", chunk_size=CHUNK, **request)
            for _ in range(PRACTICE_KILLS):
                time.sleep(rng.uniform(0.0, 1.0))  # the practice runs
                if phase(ticket.practice_id) not in ("PENDING", "RUNNING"):
                    break  # it ended: a kill now would be no kill point during a practice
                studio.kill()
                killed["practice"] += 1
                client = restart()
                resent = _retry(client.practice, "cello", "feedback", chunk_size=CHUNK, **request)
                assert resent.practice_id == ticket.practice_id  # the same practice, not a second one
            final = _final(client, ticket.practice_id)
            assert final.phase == studio_pb2.PracticeProgress.SUCCEEDED, final.message
            uploaded = tenant / "practices" / ticket.practice_id / "uploads" / performance.name
            assert uploaded.read_bytes() == performance.read_bytes()  # the audio arrived whole
            assert [v.version for v in store.versions("cello")] == [*before, final.version]  # one version
            for version in [*before, final.version]:
                store.get("cello", version)  # verifies
            assert _half_written(tenant) == []
            round_ += 1
    finally:
        client.close()
        studio.stop()
    assert killed["upload"] == round_ * UPLOAD_KILLS and killed["practice"] >= PRACTICE_ROUNDS * PRACTICE_KILLS, killed
    KILLS["studio during an upload"] += killed["upload"]
    KILLS["studio during a practice"] += killed["practice"]
