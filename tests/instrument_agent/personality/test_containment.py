"""A bundle never reaches outside itself: every path a manifest names must stay inside the bundle.

A bundle arriving from a studio or a shared file is untrusted, so each case rewrites a real bundle's
manifest (or its archive) the way an attacker would and checks that opening it is refused, with the
offending entry named, and that the file outside is never hashed or read as part of the bundle.
"""

import io
import os
import tarfile

import pytest

from instrument_agent.personality import (
    BundleCorruptError,
    contained_path,
    pack_bundle,
    read_bundle,
    unpack_bundle,
    write_bundle,
)
from instrument_agent.personality.digest import sha256_bytes
from instrument_agent.proto import personality_pb2


@pytest.fixture
def bundle(tmp_path):
    manifest = personality_pb2.PersonalityManifest(deu="violin", version=1, sample_rate=16000, frame_rate=50)
    return write_bundle(tmp_path / "store" / "v1", manifest, {"decoder.npz": os.urandom(256)})


@pytest.fixture
def secret(tmp_path):
    path = tmp_path / "secret.txt"
    path.write_bytes(b"the ama's private notes")
    return path


def _list_extra(bundle, name: str, data: bytes) -> None:
    """Add a manifest entry for ``name`` whose digest matches ``data`` (as a forger would)."""
    manifest = personality_pb2.PersonalityManifest()
    manifest.ParseFromString((bundle.path / "manifest.pb").read_bytes())
    manifest.files.add(path=name, sha256=sha256_bytes(data), size=len(data))
    (bundle.path / "manifest.pb").write_bytes(manifest.SerializeToString())


@pytest.mark.parametrize(
    "name",
    ["../secret.txt", "../../secret.txt", "./../secret.txt", "decoder.npz/../../secret.txt", "a//b", "./decoder.npz"],
)
def test_a_manifest_naming_a_path_that_leaves_the_bundle_is_refused(bundle, secret, name):
    _list_extra(bundle, name, secret.read_bytes())
    with pytest.raises(BundleCorruptError, match="outside the bundle") as info:
        read_bundle(bundle.path)
    assert repr(name) in str(info.value)


def test_an_absolute_path_in_the_manifest_is_refused(bundle, secret):
    _list_extra(bundle, str(secret), secret.read_bytes())
    with pytest.raises(BundleCorruptError, match="outside the bundle"):
        read_bundle(bundle.path)


def test_a_symlink_inside_the_bundle_pointing_outside_is_refused(bundle, secret):
    os.symlink(secret, bundle.path / "notes.txt")
    _list_extra(bundle, "notes.txt", secret.read_bytes())
    with pytest.raises(BundleCorruptError, match="symbolic link") as info:
        read_bundle(bundle.path)
    assert "notes.txt" in str(info.value)


def test_a_symlinked_folder_on_the_way_is_refused(bundle, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "weights.bin").write_bytes(b"w" * 10)
    os.symlink(outside, bundle.path / "model")
    _list_extra(bundle, "model/weights.bin", b"w" * 10)
    with pytest.raises(BundleCorruptError, match="symbolic link"):
        read_bundle(bundle.path)


def test_bundle_file_lookups_stay_inside_too(bundle):
    assert bundle.file("decoder.npz") == bundle.path / "decoder.npz"
    with pytest.raises(BundleCorruptError, match="outside the bundle"):
        contained_path(bundle.path, "../v2/decoder.npz")


@pytest.mark.parametrize("member", ["../escape.txt", "/tmp/escape.txt"])
def test_an_archive_with_traversal_entries_is_refused_and_leaves_nothing(bundle, tmp_path, member):
    archive = io.BytesIO(pack_bundle(bundle))
    with tarfile.open(fileobj=archive, mode="a") as tar:
        info = tarfile.TarInfo(member)
        info.size = 4
        tar.addfile(info, io.BytesIO(b"evil"))
    destination = tmp_path / "unpacked" / "v1"
    with pytest.raises(BundleCorruptError, match="outside the bundle") as info:
        unpack_bundle(archive.getvalue(), destination)
    assert not destination.exists()
    assert not list((tmp_path / "unpacked").iterdir())
    assert not (tmp_path / "escape.txt").exists()
    assert repr(member) in str(info.value)


def test_an_archive_with_a_link_leaving_it_is_refused(bundle, tmp_path):
    archive = io.BytesIO(pack_bundle(bundle))
    with tarfile.open(fileobj=archive, mode="a") as tar:
        info = tarfile.TarInfo("notes.txt")
        info.type = tarfile.SYMTYPE
        info.linkname = "../../secret.txt"
        tar.addfile(info)
    with pytest.raises(BundleCorruptError, match="refused"):
        unpack_bundle(archive.getvalue(), tmp_path / "unpacked" / "v1")


def test_a_manifest_that_is_a_link_to_a_file_outside_is_refused(bundle, tmp_path):
    # Found by the bad-input sweep: the manifest itself was followed through a link.
    outside = tmp_path / "manifest-copy.pb"
    outside.write_bytes((bundle.path / "manifest.pb").read_bytes())
    (bundle.path / "manifest.pb").unlink()
    os.symlink(outside, bundle.path / "manifest.pb")
    with pytest.raises(BundleCorruptError, match="symbolic link") as info:
        read_bundle(bundle.path)
    assert "manifest.pb" in str(info.value)


def test_a_refused_archive_names_its_destination_not_the_staging_folder(bundle, tmp_path):
    # Found by the bad-input sweep: the error named the hidden, already removed, staging folder.
    archive = bytearray(pack_bundle(bundle))
    archive[archive.find((bundle.path / "decoder.npz").read_bytes()) + 7] ^= 0xFF  # decoder.npz no longer matches
    destination = tmp_path / "unpacked" / "v1"
    with pytest.raises(BundleCorruptError) as info:
        unpack_bundle(bytes(archive), destination)
    assert str(destination / "decoder.npz") in str(info.value) and ".unpack-" not in str(info.value)
    assert info.value.path == str(destination / "decoder.npz")
