"""Practice uploads: chunked audio arrives whole and checked, or nothing is kept."""

from __future__ import annotations

import time

import grpc
import pytest
from _studio_support import tone_wav

from instrument_agent.client.studio_client import StudioClientError
from instrument_agent.proto import personality_pb2, studio_pb2


def _practice_dirs(studio_home, ama="alice"):
    root = studio_home / "tenants" / ama / "practices"
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


def test_an_upload_arrives_whole_and_is_recorded(client_for, studio_home, tmp_path):
    wavs = [tone_wav(tmp_path / f"take{i}.wav", seconds=0.5, f0=196.0 * (i + 1)) for i in range(2)]
    sent = []
    ticket = client_for("alice").practice(
        "cello", "imitation", audio=wavs, chunk_size=4096, progress=lambda done, total: sent.append((done, total))
    )
    assert ticket.practice_id.startswith("pr-") and ticket.bytes_received == sum(w.stat().st_size for w in wavs)
    assert sent[-1] == (ticket.bytes_received, ticket.bytes_received) and len(sent) > 2
    directory = studio_home / "tenants" / "alice" / "practices" / ticket.practice_id
    for wav in wavs:
        assert (directory / "uploads" / wav.name).read_bytes() == wav.read_bytes()
    header = studio_pb2.PracticeHeader.FromString((directory / "request.pb").read_bytes())
    assert header.deu == "cello" and [u.name for u in header.uploads] == ["take0.wav", "take1.wav"]


def test_an_oversized_upload_is_resource_exhausted_and_leaves_nothing(start_studio, client_for, studio_home, tmp_path):
    small = start_studio(max_upload_bytes=20_000)
    big = tone_wav(tmp_path / "big.wav", seconds=1.0)  # 32 kB
    with pytest.raises(StudioClientError, match="limit of 20000 bytes") as err:
        client_for("alice", server=small).practice("cello", "imitation", audio=[big])
    assert err.value.code == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert _practice_dirs(studio_home) == []


def test_a_file_larger_than_declared_is_cut_off(client_for, studio, studio_home, tmp_path):
    """A client lying about the size is stopped at the declared size, mid-stream."""
    wav = tone_wav(tmp_path / "a.wav", seconds=0.5)
    header = studio_pb2.PracticeHeader(deu="cello", type=personality_pb2.PracticeRecord.IMITATION)
    header.uploads.add(name="a.wav", size=1000)
    data = wav.read_bytes()

    def requests():
        yield studio_pb2.PracticeRequest(header=header)
        for i in range(0, len(data), 512):
            yield studio_pb2.PracticeRequest(chunk=studio_pb2.AudioChunk(name="a.wav", data=data[i : i + 512]))

    client = client_for("alice")
    with pytest.raises(grpc.RpcError) as err:
        client._stub.Practice(requests(), metadata=client._metadata, timeout=10)
    assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED and "declared 1000 bytes" in err.value.details()
    assert _practice_dirs(studio_home) == []


@pytest.mark.parametrize(
    "content",
    [b"this is not audio at all" * 100, b"RIFF\x10\x00\x00\x00WAVEjunkjunk" + bytes(200)],
    ids=["text", "broken-wav"],
)
def test_content_that_is_not_audio_is_invalid_argument(client_for, studio_home, tmp_path, content):
    path = tmp_path / "notes.wav"
    path.write_bytes(content)
    with pytest.raises(StudioClientError, match="'notes.wav': not an audio file") as err:
        client_for("alice").practice("cello", "imitation", audio=[path])
    assert err.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert _practice_dirs(studio_home) == []


_FEEDBACK = dict(
    deu="cello",
    type=3,
    performance="s3://bucket/take.wav",
    regions=[studio_pb2.FeedbackRegion(start_s=0.0, end_s=1.0, label=studio_pb2.FeedbackRegion.GOOD)],
)


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        (dict(deu="Cello!", type=1), "header.deu"),
        (dict(deu="cello", type=0), "header.type"),
        (dict(deu="cello", type=1), "needs audio"),
        (dict(deu="cello", type=2), "tuning practice needs"),
        (dict(deu="cello", type=3, performance="take.wav"), "needs header.performance and header.regions"),
        (dict(deu="cello", type=1, audio_uris=["s3://bucket/a.wav"]), "not s3 URIs"),
        (dict(_FEEDBACK, feedback_method="magic"), "header.feedback_method 'magic': choose auto, knobs, finetune"),
        (dict(_FEEDBACK, feedback_method="Knobs"), "header.feedback_method 'Knobs'"),
        (dict(_FEEDBACK, finetune_steps=-5), "header.finetune_steps -5: 1..100000"),
        (dict(_FEEDBACK, finetune_steps=10**6), "header.finetune_steps 1000000"),
        (dict(_FEEDBACK, feedback_method="knobs", finetune_steps=10), "does not apply to method knobs"),
        (
            dict(
                deu="cello", type=2, player_profile=personality_pb2.PlayerProfile(gain_db=1.0), feedback_method="knobs"
            ),
            "only allowed on a feedback practice",
        ),
    ],
)
def test_a_bad_header_is_invalid_argument(client_for, header, problem):
    client = client_for("alice")
    request = studio_pb2.PracticeRequest(header=studio_pb2.PracticeHeader(**header))
    with pytest.raises(grpc.RpcError) as err:
        client._stub.Practice(iter([request]), metadata=client._metadata, timeout=10)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT and problem in err.value.details()


def test_server_paths_are_readable_only_under_the_audio_roots(start_studio, client_for, tmp_path):
    allowed = tmp_path / "library"
    allowed.mkdir()
    inside = tone_wav(allowed / "a.wav", seconds=0.3)
    outside = tone_wav(tmp_path / "b.wav", seconds=0.3)
    server = start_studio(audio_roots=[allowed])
    client = client_for("alice", server=server)
    with pytest.raises(StudioClientError) as err:
        client.practice("cello", "imitation", audio_uris=[str(outside)])
    assert err.value.code == grpc.StatusCode.PERMISSION_DENIED
    assert client.practice("cello", "imitation", audio_uris=[str(inside)]).practice_id


def test_a_client_vanishing_mid_upload_leaves_nothing(client_for, studio, studio_home, tmp_path):
    wav = tone_wav(tmp_path / "a.wav", seconds=2.0)
    header = studio_pb2.PracticeHeader(deu="cello", type=personality_pb2.PracticeRecord.IMITATION)
    header.uploads.add(name="a.wav", size=wav.stat().st_size)
    data = wav.read_bytes()

    def requests():
        yield studio_pb2.PracticeRequest(header=header)
        yield studio_pb2.PracticeRequest(chunk=studio_pb2.AudioChunk(name="a.wav", data=data[:4096]))
        time.sleep(0.3)
        raise RuntimeError("client crashed")

    client = client_for("alice")
    with pytest.raises(grpc.RpcError):
        client._stub.Practice(requests(), metadata=client._metadata, timeout=10)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and (
        _practice_dirs(studio_home) or studio.metrics.value("amadeus_studio_active_streams", method="Practice")
    ):
        time.sleep(0.05)
    assert _practice_dirs(studio_home) == []
    assert studio.metrics.value("amadeus_studio_active_streams", method="Practice") == 0
