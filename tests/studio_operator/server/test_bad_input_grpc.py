"""The bad-input sweep at the studio's gRPC API (raw stubs, a real server on loopback): generated
Perform streams (messages in the wrong order, out-of-range rates and block sizes, huge block
counts, garbage MIDI bytes), PerformFile requests (generated MIDI files, unknown enum values),
Practice uploads (unknown practice types, wrong chunk order, undeclared or oversized files,
bad names) and downloads (any offset, chunk size, version, digest). Each call either succeeds
or ends with the documented status (docs/studio.md, "Errors") and a message; never UNKNOWN or
INTERNAL. The tenants' stores hash the same before and after."""

from __future__ import annotations

import grpc
import pytest
from _bad_input import SWEEP, count, tree_digest
from _bad_midi import midi_files
from _studio_support import TOKENS
from hypothesis import given, settings
from hypothesis import strategies as st

from instrument_agent.proto import personality_pb2, studio_pb2, studio_pb2_grpc

pytestmark = pytest.mark.bad_input

C = grpc.StatusCode
DOCUMENTED = {C.INVALID_ARGUMENT, C.NOT_FOUND, C.RESOURCE_EXHAUSTED, C.FAILED_PRECONDITION, C.PERMISSION_DENIED}
INT32 = st.one_of(st.integers(-(2**31), 2**31 - 1), st.sampled_from([0, 1, 31, 32, 2048, 2049, 16000, 48000, 48001]))


@pytest.fixture
def stub(studio):
    with grpc.insecure_channel(studio.address) as channel:
        yield studio_pb2_grpc.StudioStub(channel)


AUTH = (("authorization", f"Bearer {TOKENS['alice']}"),)


def _call(studio_home, door: str, call) -> None:
    """Run ``call``; it succeeds or fails with a documented status and a message; nothing stored changes."""
    count(door)
    before = tree_digest(studio_home / "tenants")
    try:
        call()
    except grpc.RpcError as exc:
        assert exc.code() in DOCUMENTED, (exc.code(), exc.details())
        assert exc.details(), exc.code()
    assert tree_digest(studio_home / "tenants") == before


def _ref(draw: st.DrawFn) -> personality_pb2.PersonalitySource:
    deu = draw(st.sampled_from(["cello", "flute", "nobody", "", "../cello", "x" * 300]))
    digest = draw(st.sampled_from(["", "0" * 64, "zz"]))
    return studio_pb2.PersonalitySource(ref=studio_pb2.PersonalityRef(deu=deu, version=draw(INT32), digest=digest))


@st.composite
def perform_streams(draw: st.DrawFn) -> list[studio_pb2.PerformRequest]:
    messages = []
    for _ in range(draw(st.integers(1, 4))):
        if draw(st.booleans()):
            setup = studio_pb2.PerformSetup(
                personality=_ref(draw), sample_rate=draw(INT32), block_size=draw(INT32), seed=draw(INT32)
            )
            messages.append(studio_pb2.PerformRequest(setup=setup))
        else:
            events = [
                studio_pb2.MidiEvent(sample=draw(st.integers(-(2**63), 2**63 - 1)), data=draw(st.binary(max_size=8)))
                for _ in range(draw(st.integers(0, 4)))
            ]
            blocks = draw(st.one_of(st.integers(-(2**31), 2**31 - 1), st.integers(0, 4)))
            play = studio_pb2.PerformEvents(events=events, blocks=blocks, finish=draw(st.booleans()))
            messages.append(studio_pb2.PerformRequest(play=play))
    return messages


@settings(SWEEP, max_examples=30)
@given(messages=perform_streams())
def test_a_generated_perform_stream(stub, studio_home, messages):
    _call(studio_home, "gRPC Perform", lambda: list(stub.Perform(iter(messages), metadata=AUTH, timeout=30)))


@settings(SWEEP, max_examples=25)
@given(midi=midi_files(), data=st.data())
def test_a_generated_perform_file_request(stub, studio_home, midi, data):
    request = studio_pb2.PerformFileRequest(
        personality=data.draw(
            st.sampled_from([studio_pb2.PersonalitySource(ref=studio_pb2.PersonalityRef(deu="cello"))])
        )
        if data.draw(st.booleans())
        else _ref(data.draw),
        midi=midi[1],
        sample_rate=data.draw(st.sampled_from([0, 16000, 7999, 48001, -5, 2**31 - 1])),
        format=data.draw(st.integers(0, 7)),  # 3.. are unknown enum values
    )
    _call(studio_home, "gRPC PerformFile", lambda: stub.PerformFile(request, metadata=AUTH, timeout=60))


@st.composite
def practice_streams(draw: st.DrawFn) -> list[studio_pb2.PracticeRequest]:
    kind = draw(st.sampled_from([personality_pb2.PracticeRecord.IMITATION, personality_pb2.PracticeRecord.FEEDBACK]))
    names = draw(st.lists(st.sampled_from(["a.wav", "b.flac", "../x.wav", "d/e.wav", "", "a.wav"]), max_size=3))
    uploads = [
        studio_pb2.UploadDeclaration(
            name=n, size=draw(st.integers(-10, 2**40)), sha256=draw(st.sampled_from(["", "ab"]))
        )
        for n in names
    ]
    header = studio_pb2.PracticeHeader(
        deu=draw(st.sampled_from(["cello", "newdeu", "Bad!", ""])),
        type=draw(st.one_of(st.just(kind), st.integers(3, 2**31 - 1))),  # unknown enum values too
        base_version=draw(INT32),
        uploads=uploads,
        performance=draw(st.sampled_from(["", "a.wav", "/etc/passwd"])),
    )
    chunks = [
        studio_pb2.PracticeRequest(
            chunk=studio_pb2.AudioChunk(name=draw(st.sampled_from(["a.wav", "b.flac", "zzz"])), data=draw(st.binary()))
        )
        for _ in range(draw(st.integers(0, 3)))
    ]
    messages = [studio_pb2.PracticeRequest(header=header), *chunks]
    if draw(st.booleans()):  # the wrong order: chunks first, or a second header
        messages.insert(draw(st.integers(0, len(messages))), studio_pb2.PracticeRequest(header=header))
    return messages


@settings(SWEEP, max_examples=30)
@given(messages=practice_streams())
def test_a_generated_practice_upload(stub, studio_home, messages):
    _call(studio_home, "gRPC Practice", lambda: stub.Practice(iter(messages), metadata=AUTH, timeout=30))


@settings(SWEEP, max_examples=25)
@given(data=st.data())
def test_a_generated_download(stub, studio_home, data):
    request = studio_pb2.DownloadPersonalityRequest(
        ref=_ref(data.draw).ref,
        offset=data.draw(st.one_of(st.integers(-(2**63), 2**63 - 1), st.integers(0, 5000))),
        chunk_size=data.draw(INT32),
    )
    _call(
        studio_home,
        "gRPC DownloadPersonality",
        lambda: list(stub.DownloadPersonality(request, metadata=AUTH, timeout=30)),
    )
