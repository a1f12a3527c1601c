"""The bad-input sweep at the personality doors: a store whose bundle had one file flipped,
truncated, extended, removed or replaced by a link leaving the bundle (``PersonalityStore.get``);
manifests naming generated ``../`` and absolute paths (``read_bundle``); packed archives with
generated traversal, link and device entries, or flipped and cut bytes (``unpack_bundle``).
Each is refused with a :class:`PersonalityError` naming the file or entry, the store and the
files around it hash the same before and after, and a refused archive leaves nothing behind."""

from __future__ import annotations

import io
import os
import shutil
import tarfile

import pytest
from _bad_input import SWEEP, count, tree_digest
from _perform_support import make_personality
from hypothesis import given, settings
from hypothesis import strategies as st

from instrument_agent.personality import BundleCorruptError, PersonalityError, pack_bundle, read_bundle, unpack_bundle
from instrument_agent.personality.digest import sha256_bytes
from instrument_agent.personality.store import PersonalityStore
from instrument_agent.proto import personality_pb2

pytestmark = pytest.mark.bad_input

SECRET = b"the ama's private notes"


class Template:
    """A store holding cello v1 (decoder.npz, reverb_ir.npy, manifest.pb), and its packed archive."""

    def __init__(self, root):
        bundle = make_personality(root, seed=2, reverb_seconds=0.05)
        self.home, self.archive = root / "home", pack_bundle(bundle)

    def __repr__(self) -> str:  # hypothesis prints the fixtures of a failing case
        return f"Template({self.home})"


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return Template(tmp_path_factory.mktemp("bundle-template"))


def _fresh(template_home, tmp_path):
    """A copy of the template store next to an outside file; returns (home, bundle dir, outside dir)."""
    shutil.rmtree(tmp_path / "case", ignore_errors=True)
    home, outside = tmp_path / "case" / "home", tmp_path / "case" / "outside"
    shutil.copytree(template_home, home, symlinks=True)
    outside.mkdir()
    (outside / "secret.txt").write_bytes(SECRET)
    return home, home / "personalities" / "cello" / "v000001", outside


_MUTATIONS = ["flip", "truncate", "extend", "remove", "link-outside", "empty"]


@settings(SWEEP, max_examples=60)
@given(
    file=st.sampled_from(["manifest.pb", "decoder.npz", "reverb_ir.npy"]),
    mutation=st.sampled_from(_MUTATIONS),
    where=st.floats(0.0, 1.0, exclude_max=True),
    bits=st.integers(1, 255),
)
def test_a_store_with_one_file_spoilt(template, tmp_path, file, mutation, where, bits):
    count("PersonalityStore.get (spoilt file)")
    home, bundle_dir, outside = _fresh(template.home, tmp_path)
    path = bundle_dir / file
    data = path.read_bytes()
    at = int(where * len(data))
    if mutation == "flip":
        path.write_bytes(data[:at] + bytes([data[at] ^ bits]) + data[at + 1 :])
    elif mutation == "truncate":
        path.write_bytes(data[:at])
    elif mutation == "extend":
        path.write_bytes(data + bytes([bits]) * (1 + at % 7))
    elif mutation == "remove":
        path.unlink()
    elif mutation == "empty":
        path.write_bytes(b"")
    else:  # the file's very bytes, but through a link to a file outside the bundle
        (outside / "copy").write_bytes(data)
        path.unlink()
        os.symlink(outside / "copy", path)
    before = tree_digest(home, outside)

    with pytest.raises(PersonalityError) as info:
        PersonalityStore(home).get("cello", 1)

    assert str(bundle_dir) in str(info.value), info.value
    assert tree_digest(home, outside) == before


_SEGMENT = st.sampled_from(["..", ".", "", "decoder.npz", "model", "~", "secret.txt", "..."])


@st.composite
def leaving_paths(draw: st.DrawFn) -> str:
    """A path that is absolute, or has an empty, ``.`` or ``..`` component, or a backslash or NUL."""
    parts = draw(st.lists(_SEGMENT, min_size=1, max_size=6))
    style = draw(st.sampled_from(["dots", "absolute", "backslash", "nul"]))
    if style == "dots":
        parts.insert(draw(st.integers(0, len(parts))), draw(st.sampled_from(["..", ".", ""])))
    name = "/".join(parts)
    if style == "absolute":
        return "/" + name.lstrip("/")
    if style == "backslash":
        return name + "\\..\\secret.txt"
    if style == "nul":
        return name + "\0"
    return name


@settings(SWEEP, max_examples=50)
@given(name=leaving_paths())
def test_a_manifest_naming_a_path_outside_the_bundle(template, tmp_path, name):
    count("read_bundle (manifest paths)")
    home, bundle_dir, outside = _fresh(template.home, tmp_path)
    manifest = personality_pb2.PersonalityManifest()
    manifest.ParseFromString((bundle_dir / "manifest.pb").read_bytes())
    manifest.files.add(path=name, sha256=sha256_bytes(SECRET), size=len(SECRET))
    (bundle_dir / "manifest.pb").write_bytes(manifest.SerializeToString())
    before = tree_digest(home, outside)

    with pytest.raises(BundleCorruptError, match="outside the bundle") as info:
        read_bundle(bundle_dir)

    assert repr(name) in str(info.value)
    assert tree_digest(home, outside) == before


def _with_member(archive: bytes, info: tarfile.TarInfo, data: bytes = b"") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:") as source, tarfile.open(fileobj=buffer, mode="w") as tar:
        for member in source.getmembers():
            tar.addfile(member, source.extractfile(member))
        tar.addfile(info, io.BytesIO(data) if info.isfile() else None)
    return buffer.getvalue()


@settings(SWEEP, max_examples=60)
@given(
    kind=st.sampled_from(["traversal", "symlink", "hardlink", "device", "fifo", "flip", "cut", "extra-file"]),
    name=leaving_paths(),
    where=st.floats(0.0, 1.0, exclude_max=True),
    bits=st.integers(1, 255),
)
def test_a_packed_archive_with_a_bad_entry_or_bytes(template, tmp_path, kind, name, where, bits):
    count("unpack_bundle (archives)")
    home, _, outside = _fresh(template.home, tmp_path)
    archive, at = template.archive, int(where * len(template.archive))
    if kind == "traversal":
        info = tarfile.TarInfo(name.replace("\0", "") or "..")
        info.size = len(SECRET)
        archive = _with_member(archive, info, SECRET)
    elif kind in ("symlink", "hardlink", "device", "fifo"):
        info = tarfile.TarInfo("notes.txt")
        info.type = {"symlink": tarfile.SYMTYPE, "hardlink": tarfile.LNKTYPE, "device": tarfile.CHRTYPE}.get(
            kind, tarfile.FIFOTYPE
        )
        info.linkname = str(outside / "secret.txt")
        archive = _with_member(archive, info)
    elif kind == "extra-file":
        info = tarfile.TarInfo("extra.bin")
        info.size = len(SECRET)
        archive = _with_member(archive, info, SECRET)
    elif kind == "flip":
        archive = archive[:at] + bytes([archive[at] ^ bits]) + archive[at + 1 :]
    else:
        archive = archive[:at]
    destination = home / "incoming" / "cello-v1"
    before = tree_digest(home, outside)

    try:
        bundle = unpack_bundle(archive, destination)
    except BundleCorruptError as exc:
        assert str(destination) in str(exc) or "manifest" in str(exc), exc
        assert not destination.exists() and not list(destination.parent.glob(".unpack-*"))
        assert {k: v for k, v in tree_digest(home, outside).items() if "incoming" not in k} == before
        return
    # Only a flip that leaves every digest whole (tar padding, an unused header field) may unpack.
    assert kind == "flip", f"{kind} {name!r}: unpacked"
    assert bundle.digest == read_bundle(template.home / "personalities" / "cello" / "v000001").digest
