"""The light studio client against a real studio on loopback: resumable, verified downloads."""

from __future__ import annotations

import pytest
from _perform_support import make_personality  # noqa: E402

from instrument_agent.client.studio_client import StudioClient, StudioClientError  # noqa: E402
from instrument_agent.personality import pack_bundle, sha256_bytes  # noqa: E402
from instrument_agent.personality.store import PersonalityStore  # noqa: E402


@pytest.fixture
def studio(tmp_path):
    from studio_operator.server import StudioConfig, StudioServer

    bundle = make_personality(tmp_path, deu="cello")
    server = StudioServer(StudioConfig(home=tmp_path / "home", host="127.0.0.1", port=0, metrics_port=None)).start()
    yield server, bundle
    server.stop(grace=0.5)


def test_download_resumes_from_a_partial_file_and_verifies(studio, tmp_path):
    server, bundle = studio
    packed = pack_bundle(bundle)
    archive = tmp_path / "dl" / "cello.tar"
    archive.parent.mkdir()
    part = archive.with_name("cello.tar.part")
    part.write_bytes(packed[:5000])  # an earlier, interrupted download
    archive.with_name("cello.tar.part.digest").write_text(sha256_bytes(packed))
    seen = []
    with StudioClient(server.address) as client:
        last = client.download_archive(
            "cello", archive, chunk_size=4096, progress=lambda done, total: seen.append(done)
        )
    assert archive.read_bytes() == packed and not part.exists()
    assert seen[0] == 5000 + 4096 and seen[-1] == len(packed)  # only the missing bytes travelled
    assert last.digest == bundle.digest and last.version == 1


def test_a_corrupt_partial_file_is_detected_and_discarded(studio, tmp_path):
    server, bundle = studio
    packed = bytearray(pack_bundle(bundle))
    archive = tmp_path / "cello.tar"
    packed[100] ^= 0xFF
    archive.with_name("cello.tar.part").write_bytes(bytes(packed[:3000]))
    archive.with_name("cello.tar.part.digest").write_text(sha256_bytes(pack_bundle(bundle)))
    with StudioClient(server.address) as client:
        with pytest.raises(StudioClientError, match="does not match") as err:
            client.download_archive("cello", archive)
        assert err.value.code is None
        assert not archive.exists() and not archive.with_name("cello.tar.part").exists()
        got = client.download("cello", tmp_path / "fresh")  # the retry starts afresh
    assert got.digest == bundle.digest


def test_download_unpacks_a_verified_bundle(studio, tmp_path):
    server, bundle = studio
    with StudioClient(server.address) as client:
        got = client.download("cello", tmp_path / "cello-v1")
        assert [(v.deu, v.version) for v in client.list_personalities()] == [("cello", 1)]
    assert got.digest == bundle.digest
    local = PersonalityStore(tmp_path / "laptop")
    assert (
        local.commit("cello", got.manifest, {e.path: got.path / e.path for e in got.manifest.files}, version=1).digest
        == bundle.digest
    )


def test_an_unreachable_studio_is_unavailable(tmp_path):
    with StudioClient("127.0.0.1:9", timeout=2) as client:
        with pytest.raises(StudioClientError) as err:
            client.list_personalities()
    assert err.value.code.name in ("UNAVAILABLE", "DEADLINE_EXCEEDED")
