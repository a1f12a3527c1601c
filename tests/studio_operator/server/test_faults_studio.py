"""Fault injection: the ``amadeus studio serve`` process SIGKILLed while a client downloads a
personality, at seeded byte offsets, and restarted on the same home and port. Each download
resumes from the client's ``.part`` file (it asks for the rest only), the finished archive
matches the studio's sha256 and unpacks to the listed digest, and the studio home holds
nothing half-written (the ama's store verifies)."""

from __future__ import annotations

import random

import pytest
from _faults import KILLS, ServedStudio
from _studio_support import TOKENS, install, write_tokens

from instrument_agent.client.studio_client import StudioClient, StudioClientError
from instrument_agent.personality import unpack_bundle
from instrument_agent.personality.store import PersonalityStore

pytestmark = [pytest.mark.faults, pytest.mark.slow, pytest.mark.timeout(300)]

SEED, DOWNLOAD_KILLS, CHUNK = 5, 6, 4096


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
