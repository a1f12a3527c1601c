import errno
import os

import pytest

from instrument_agent.personality import (
    SCHEMA_VERSION,
    BundleCorruptError,
    BundleNotFoundError,
    BundleSchemaError,
    BundleWriteError,
    pack_bundle,
    read_bundle,
    unpack_bundle,
    write_bundle,
)
from instrument_agent.personality.digest import sha256_bytes
from instrument_agent.proto import personality_pb2


def _manifest(**kwargs):
    return personality_pb2.PersonalityManifest(deu="violin", version=1, sample_rate=16000, frame_rate=50, **kwargs)


@pytest.fixture
def bundle(tmp_path):
    model = tmp_path / "saved"
    (model / "variables").mkdir(parents=True)
    (model / "saved_model.pb").write_bytes(b"\x08\x01graph")
    (model / "variables" / "variables.index").write_bytes(os.urandom(300))
    return write_bundle(
        tmp_path / "bundles" / "v1",
        _manifest(),
        {"decoder.npz": os.urandom(1000), "saved_model": model},
    )


def test_written_bundle_lists_every_file_with_its_digest(bundle):
    listed = {entry.path: entry for entry in bundle.manifest.files}
    assert set(listed) == {"decoder.npz", "saved_model/saved_model.pb", "saved_model/variables/variables.index"}
    for rel, entry in listed.items():
        data = (bundle.path / rel).read_bytes()
        assert entry.sha256 == sha256_bytes(data) and entry.size == len(data)
    assert bundle.manifest.schema_version == SCHEMA_VERSION
    assert bundle.digest == sha256_bytes((bundle.path / "manifest.pb").read_bytes())
    assert not [p for p in bundle.path.parent.iterdir() if p.name.startswith(".")]  # no staging left


def test_changed_file_is_detected_and_named(bundle):
    target = bundle.path / "decoder.npz"
    data = bytearray(target.read_bytes())
    data[10] ^= 0xFF
    target.write_bytes(bytes(data))
    with pytest.raises(BundleCorruptError, match="decoder.npz: sha256 does not match") as info:
        read_bundle(bundle.path)
    assert info.value.path.endswith("decoder.npz")


def test_truncated_and_missing_files_are_detected(bundle):
    target = bundle.path / "saved_model" / "variables" / "variables.index"
    target.write_bytes(target.read_bytes()[:100])
    with pytest.raises(BundleCorruptError, match="truncated"):
        read_bundle(bundle.path)
    target.unlink()
    with pytest.raises(BundleCorruptError, match="missing"):
        read_bundle(bundle.path)


def test_edited_manifest_is_caught_by_the_recorded_digest(bundle):
    manifest = personality_pb2.PersonalityManifest.FromString((bundle.path / "manifest.pb").read_bytes())
    manifest.metrics["eval/spectral_loss"] = 0.001  # a flattering lie
    (bundle.path / "manifest.pb").write_bytes(manifest.SerializeToString())
    read_bundle(bundle.path)  # self-consistent, so only the recorded digest can tell
    with pytest.raises(BundleCorruptError, match="manifest was changed"):
        read_bundle(bundle.path, expected_digest=bundle.digest)


def test_garbage_manifest_and_newer_schema(bundle, tmp_path):
    (bundle.path / "manifest.pb").write_bytes(b"\xff\xff\xff not a protobuf")
    with pytest.raises(BundleCorruptError, match="not a valid PersonalityManifest"):
        read_bundle(bundle.path)
    newer = _manifest(schema_version=SCHEMA_VERSION + 1)
    (tmp_path / "future").mkdir()
    (tmp_path / "future" / "manifest.pb").write_bytes(newer.SerializeToString())
    with pytest.raises(BundleSchemaError, match="newer than this Amadeus"):
        read_bundle(tmp_path / "future")
    with pytest.raises(BundleNotFoundError):
        read_bundle(tmp_path / "nowhere")


def test_failed_write_leaves_nothing_visible(tmp_path, monkeypatch):
    import shutil

    real_copy = shutil.copyfile

    def disk_full(src, dst, *args, **kwargs):
        if str(dst).endswith("decoder.tflite"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_copy(src, dst, *args, **kwargs)

    source = tmp_path / "decoder.tflite"
    source.write_bytes(b"tflite")
    monkeypatch.setattr(shutil, "copyfile", disk_full)
    with pytest.raises(BundleWriteError, match="decoder.tflite failed: No space left on device"):
        write_bundle(tmp_path / "out" / "v1", _manifest(), {"a.bin": b"x", "decoder.tflite": source})
    assert list((tmp_path / "out").iterdir()) == []


def test_bundles_are_immutable(bundle):
    with pytest.raises(BundleWriteError, match="already exists"):
        write_bundle(bundle.path, _manifest(), {"x": b"1"})


def test_pack_unpack_round_trip_is_deterministic_and_verified(bundle, tmp_path):
    archive = pack_bundle(bundle)
    assert archive == pack_bundle(bundle.path)
    copy = unpack_bundle(archive, tmp_path / "copy", expected_digest=bundle.digest)
    assert copy.digest == bundle.digest and copy.manifest == bundle.manifest
    with pytest.raises(BundleCorruptError):
        unpack_bundle(archive[:2000], tmp_path / "cut")  # mid-way through decoder.npz
    assert not (tmp_path / "cut").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".unpack")]


def test_file_resolves_listed_files_and_directories_only(bundle):
    assert bundle.file("decoder.npz").read_bytes()
    assert bundle.file("saved_model").is_dir()
    with pytest.raises(BundleCorruptError, match="no file 'decoder.tflite'"):
        bundle.file("decoder.tflite")
    with pytest.raises(BundleCorruptError):
        bundle.file("saved")  # a prefix of a name is not a directory
