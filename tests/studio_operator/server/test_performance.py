"""Perform and PerformFile: the studio plays exactly what the agent's engine plays;
bad MIDI, unknown deus, wrong digests and disconnects get the right status and leave nothing behind."""

from __future__ import annotations

import io
import time

import grpc
import mido
import numpy as np
import pytest
import soundfile
from _studio_support import make_personality, write_midi

from instrument_agent.client.studio_client import StudioClientError, midi_event
from instrument_agent.engine import Engine
from instrument_agent.midi import read_midi
from instrument_agent.personality import pack_bundle
from instrument_agent.render import render_midi


@pytest.fixture
def phrase(tmp_path):
    """Two overlapping notes then a third: 120 bpm, 480 ticks per beat."""
    return write_midi(
        tmp_path / "phrase.mid",
        [
            [
                mido.Message("note_on", note=57, velocity=100, time=0),
                mido.Message("note_on", note=64, velocity=80, time=240),
                mido.Message("note_off", note=57, time=240),
                mido.Message("note_off", note=64, time=120),
                mido.Message("note_on", note=60, velocity=110, time=60),
                mido.Message("note_off", note=60, time=360),
            ]
        ],
    )


def _wait(predicate, timeout=5.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def test_perform_file_renders_what_the_agent_renders(client_for, cello_bundle, phrase):
    response = client_for("alice").perform_file(phrase, deu="cello", sample_rate=16000)
    audio, rate = soundfile.read(io.BytesIO(response.audio), dtype="float32")
    engine = Engine.from_bundle(cello_bundle, sample_rate=16000)
    expected = render_midi(engine, read_midi(phrase), block_size=1024)
    assert rate == 16000 and response.renderer == "engine"
    assert (response.deu, response.version, response.digest) == ("cello", 1, cello_bundle.digest)
    assert audio.shape == expected.shape and np.abs(expected).max() > 0.01
    np.testing.assert_array_equal(audio, expected)
    assert response.seconds == pytest.approx(expected.size / 16000)


def test_perform_file_with_an_inline_bundle_needs_no_store(client_for, tmp_path, phrase, studio_home):
    (tmp_path / "viola").mkdir()
    viola = make_personality(tmp_path / "viola", deu="viola", seed=3, reverb_seconds=0)
    response = client_for("bob").perform_file(phrase, bundle=pack_bundle(viola), sample_rate=16000, raw=True)
    audio = np.frombuffer(response.audio, "<f4")
    assert response.deu == "viola" and response.digest == viola.digest and np.abs(audio).max() > 0.01
    assert not any((studio_home / "cache" / "inline").iterdir())  # the unpacked copy is gone


@pytest.mark.parametrize(
    ("midi", "problem"),
    [
        (b"", "empty"),
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", "not a valid Standard MIDI File"),
        (b"MThd\x00\x00\x00\x06\x00\x01\x00\x01\x01\xe0MTrk\x00\x00\x00\x40\x00\x90", "truncated"),
    ],
)
def test_invalid_midi_is_invalid_argument(client_for, midi, problem):
    with pytest.raises(StudioClientError, match=problem) as err:
        client_for("alice").perform_file(midi, deu="cello")
    assert err.value.code == grpc.StatusCode.INVALID_ARGUMENT


def test_unknown_deu_version_and_wrong_digest(client_for, phrase):
    alice = client_for("alice")
    for kwargs, code in (
        (dict(deu="oboe"), grpc.StatusCode.NOT_FOUND),
        (dict(deu="cello", version=7), grpc.StatusCode.NOT_FOUND),
        (dict(deu="cello", digest="0" * 64), grpc.StatusCode.FAILED_PRECONDITION),
    ):
        with pytest.raises(StudioClientError) as err:
            alice.perform_file(phrase, **kwargs)
        assert err.value.code == code, kwargs


def test_a_corrupt_inline_bundle_is_invalid_argument(client_for, phrase, cello_bundle):
    import tarfile

    packed = bytearray(pack_bundle(cello_bundle))
    with tarfile.open(fileobj=io.BytesIO(bytes(packed))) as tar:
        member = tar.getmember("decoder.npz")
    packed[member.offset_data + member.size // 2] ^= 0xFF  # one flipped bit in the decoder weights
    with pytest.raises(StudioClientError, match="personality.bundle") as err:
        client_for("alice").perform_file(phrase, bundle=bytes(packed))
    assert err.value.code == grpc.StatusCode.INVALID_ARGUMENT


def test_perform_stream_matches_the_engine_block_for_block(client_for, cello_bundle):
    events = [
        (0, mido.Message("note_on", note=57, velocity=100)),
        (700, mido.Message("note_on", note=64, velocity=70)),
        (2000, mido.Message("note_off", note=57)),
        (2600, mido.Message("note_off", note=64)),
    ]
    stream = client_for("alice").perform(deu="cello", sample_rate=16000, block_size=128)
    assert (stream.ready.sample_rate, stream.ready.block_size, stream.ready.digest) == (16000, 128, cello_bundle.digest)
    first = stream.play([midi_event(s, m) for s, m in events[:2]], blocks=10)
    assert stream.last_voices == 2
    second = stream.play([midi_event(s, m) for s, m in events[2:]], blocks=15)
    tail = stream.finish()
    engine = Engine.from_bundle(cello_bundle, sample_rate=16000)
    for sample, message in events[:2]:
        engine.send(message, at=sample)
    expected = [engine.render(128) for _ in range(10)]
    for sample, message in events[2:]:
        engine.send(message, at=sample)
    expected += [engine.render(128) for _ in range(15)]
    np.testing.assert_array_equal(np.concatenate([first, second]), np.concatenate(expected))
    assert tail.size % 128 == 0 and tail.size >= engine.tail_samples()


def test_perform_stream_rejects_bad_events_and_bad_settings(client_for):
    alice = client_for("alice")
    with pytest.raises(StudioClientError, match="not a MIDI message") as err:
        alice.perform(deu="cello").play([midi_event(0, b"\x90\x3c")])
    assert err.value.code == grpc.StatusCode.INVALID_ARGUMENT
    for kwargs in (dict(block_size=7), dict(sample_rate=8000)):
        with pytest.raises(StudioClientError) as err:
            alice.perform(deu="cello", **kwargs)
        assert err.value.code == grpc.StatusCode.INVALID_ARGUMENT, kwargs


def test_a_client_leaving_mid_stream_frees_everything(client_for, studio, cello_bundle, studio_home):
    gauge = lambda: studio.metrics.value("amadeus_studio_active_streams", method="Perform")  # noqa: E731
    inline = client_for("alice").perform(bundle=pack_bundle(cello_bundle), sample_rate=16000)
    held = client_for("alice").perform(deu="cello", sample_rate=16000)
    held.play([midi_event(0, mido.Message("note_on", note=60))], blocks=4)
    inline.play([midi_event(0, mido.Message("note_on", note=60))], blocks=4)
    assert gauge() == 2 and any((studio_home / "cache" / "inline").iterdir())
    held.close()
    inline.close()
    assert _wait(lambda: gauge() == 0)
    assert _wait(lambda: not any((studio_home / "cache" / "inline").iterdir()))
    finished = lambda: sum(  # noqa: E731 - a cancel may reach the handler as the end of the request stream
        studio.metrics.value("amadeus_studio_requests_total", method="Perform", code=code)
        for code in ("OK", "CANCELLED")
    )
    assert _wait(lambda: finished() == 2)


def test_a_deadline_stops_a_long_render(client_for, studio, tmp_path):
    long_piece = write_midi(
        tmp_path / "long.mid",
        [
            [mido.Message("note_on", note=50 + i % 12, velocity=90, time=0 if i == 0 else 10) for i in range(40)]
            + [mido.Message("note_off", note=50, time=480 * 240)]
        ],
    )  # two minutes of 40-voice chord
    with pytest.raises(StudioClientError) as err:
        client_for("alice").perform_file(long_piece, deu="cello", timeout=0.3)
    assert err.value.code == grpc.StatusCode.DEADLINE_EXCEEDED
    assert client_for("alice").list_personalities()  # the studio still answers at once
