"""The cluster backend's personalities: list, get, download and perform read the S3 registry, and
tenants are isolated by namespace and prefix."""

from __future__ import annotations

import io

import grpc
import mido
import numpy as np
import pytest
import soundfile
from _studio_support import tone_wav, write_midi  # noqa: E402

from instrument_agent.client.studio_client import StudioClientError  # noqa: E402
from instrument_agent.proto import studio_pb2  # noqa: E402

Phase = studio_pb2.PracticeProgress.Phase


def test_list_get_download_and_perform_read_the_registry(alice, published, tmp_path, cello_bundle):
    rows = alice.list_personalities()
    assert [(r.deu, r.version, r.digest) for r in rows] == [("cello", 1, published["alice"].digest)]
    info = alice.get_personality("cello")
    assert info.version.digest == published["alice"].digest and info.manifest.deu == "cello"
    bundle = alice.download("cello", tmp_path / "downloaded")
    assert bundle.digest == published["alice"].digest and bundle.version == 1
    note = [
        mido.Message("note_on", note=60, velocity=100, time=0),
        mido.Message("note_off", note=60, velocity=0, time=480),
    ]
    response = alice.perform_file(write_midi(tmp_path / "phrase.mid", [note]), deu="cello", sample_rate=16000)
    audio, rate = soundfile.read(io.BytesIO(response.audio))
    assert rate == 16000 and response.version == 1 and np.sqrt(np.mean(audio**2)) > 1e-4


# -- tenants: one namespace and one registry per ama ----------------------------------------------


def test_tenants_are_isolated_by_namespace_and_prefix(alice, bob, cluster, s3, bucket, published, tmp_path):
    take = tone_wav(tmp_path / "take.wav", seconds=0.3)
    ticket = alice.practice("cello", "imitation", audio=[take])
    alice_uri = cluster.practices("amadeus-alice")[0]["spec"]["audio"][0]

    for call in (
        lambda: next(bob.watch(ticket.practice_id, follow=False)),
        lambda: bob.get_personality("cello"),
        lambda: bob.list_personalities("cello"),
        lambda: bob.download("cello", tmp_path / "stolen"),
    ):
        with pytest.raises(StudioClientError) as err:
            call()
        assert err.value.code == grpc.StatusCode.NOT_FOUND
    assert [r.deu for r in bob.list_personalities()] == ["flute"]
    with pytest.raises(StudioClientError) as err:  # practising on alice's audio by reference
        bob.practice("flute", "imitation", audio_uris=[alice_uri])
    assert err.value.code == grpc.StatusCode.PERMISSION_DENIED and "outside this ama" in str(err.value)
    with pytest.raises(StudioClientError) as err:
        bob.practice("flute", "imitation", audio_uris=["/etc/passwd"])
    assert err.value.code == grpc.StatusCode.PERMISSION_DENIED

    own = f"s3://{bucket}/tenants/bob/practices/{ticket.practice_id}/take.wav"  # bob's prefix, but nothing there
    with pytest.raises(StudioClientError) as err:
        bob.practice("flute", "imitation", audio_uris=[own])
    assert err.value.code == grpc.StatusCode.INVALID_ARGUMENT and "no such object" in str(err.value)

    s3.fput_object(bucket, "tenants/bob/recordings/flute.wav", str(take))
    mine = bob.practice("flute", "imitation", audio_uris=[f"s3://{bucket}/tenants/bob/recordings/flute.wav"])
    [bobs] = cluster.practices("amadeus-bob")
    assert bobs["metadata"]["name"] == mine.practice_id and bobs["spec"]["audio"] == [
        f"s3://{bucket}/tenants/bob/recordings/flute.wav"
    ]
    assert [p["metadata"]["name"] for p in cluster.practices("amadeus-alice")] == [ticket.practice_id]


def test_the_champion_in_the_bucket_is_what_get_and_download_serve_by_default(
    alice, published, s3_endpoint, bucket, tmp_path
):
    from _cluster_support import registry_for
    from _perform_support import make_personality

    registry = registry_for(s3_endpoint, bucket, "alice")
    newer = registry.publish(make_personality(tmp_path, deu="cello", seed=3, reverb_seconds=0.05))  # v2
    assert alice.get_personality("cello").version.version == 2  # no champion: the latest
    registry.promote("cello", 1)
    rows = alice.list_personalities("cello")
    assert [(r.version, r.champion) for r in rows] == [(1, True), (2, False)]
    assert alice.get_personality("cello").version.version == 1
    assert alice.download("cello", tmp_path / "dl").digest == published["alice"].digest
    assert alice.get_personality("cello", version=2).version.digest == newer.digest  # named: as asked


def test_set_champion_writes_the_tenants_bucket_only(alice, bob, published, s3_endpoint, bucket, tmp_path):
    from _cluster_support import registry_for
    from _perform_support import make_personality

    registry = registry_for(s3_endpoint, bucket, "alice")
    registry.publish(make_personality(tmp_path, deu="cello", seed=4, reverb_seconds=0.05))  # v2
    report = alice.set_champion("cello", 1)
    assert report.champion.version == 1 and [e.version for e in report.history] == [1]
    assert registry.champion("cello").version == 1  # in alice's prefix of the bucket
    assert alice.get_personality("cello").version.version == 1
    with pytest.raises(StudioClientError) as refused:
        bob.set_champion("cello", 1)  # bob has no cello: his own prefix
    assert refused.value.code == grpc.StatusCode.NOT_FOUND
    assert registry_for(s3_endpoint, bucket, "bob").champion_history("flute") == []
