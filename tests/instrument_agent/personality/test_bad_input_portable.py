"""The bad-input sweep at ``amadeus personalities import``: .amadeus files with generated flipped,
cut and appended bytes, and generated member names (``../`` traversal, absolute paths, extra
members). A damaged file is refused (exit 2, the file named) with the store and the files around
it hashing the same; one whose damage leaves the content intact (a flipped padding byte) may be
imported, but then exactly the exported personality arrives: nothing changed ever enters."""

from __future__ import annotations

import io
import shutil
import tarfile

import pytest
from _bad_input import SWEEP, count, run_cli, squash, tree_digest
from _perform_support import make_personality
from hypothesis import given, settings
from hypothesis import strategies as st

from instrument_agent.personality.portable import BUNDLE_NAME, HEADER_NAME, export_portable
from instrument_agent.personality.store import PersonalityStore

pytestmark = pytest.mark.bad_input


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """``(bytes of cello-v1.amadeus, its digest, a target store's home with viola v1)``."""
    root = tmp_path_factory.mktemp("portable-template")
    bundle = make_personality(root, seed=2, reverb_seconds=0.05)
    data = export_portable(PersonalityStore(root / "home"), "cello", 1, root / "cello.amadeus")
    target = root / "target"
    (root / "viola").mkdir()
    viola = make_personality(root / "viola", deu="viola", seed=3, reverb_seconds=0.05)
    PersonalityStore(target).commit(
        "viola", viola.manifest, {e.path: viola.path / e.path for e in viola.manifest.files}
    )
    assert data.digest == bundle.digest
    return (root / "cello.amadeus").read_bytes(), bundle.digest, target


def _door(exported, tmp_path, damaged: bytes, monkeypatch):
    original, digest, template = exported
    shutil.rmtree(tmp_path / "case", ignore_errors=True)
    home = tmp_path / "case" / "home"
    shutil.copytree(template, home)
    bad = tmp_path / "case" / "bad.amadeus"
    bad.write_bytes(damaged)
    monkeypatch.setenv("AMADEUS_HOME", str(home))
    before = tree_digest(home)
    code, out = run_cli(["personalities", "import", str(bad)])
    count("amadeus personalities import")
    if code == 0:  # the damage missed the content: exactly the exported personality arrived
        assert PersonalityStore(home).get("cello", 1).digest == digest
        return
    assert code == 2 and "bad.amadeus" in squash(out) and "Traceback" not in out
    assert tree_digest(home) == before


@settings(SWEEP, max_examples=40)
@given(data=st.data())
def test_flipped_cut_and_extended_files_are_refused(exported, tmp_path_factory, monkeypatch, data):
    original = exported[0]
    kind = data.draw(st.sampled_from(["flip", "cut", "extend"]))
    if kind == "flip":
        at = data.draw(st.integers(0, len(original) - 1))
        damaged = original[:at] + bytes([original[at] ^ data.draw(st.integers(1, 255))]) + original[at + 1 :]
    elif kind == "cut":
        damaged = original[: data.draw(st.integers(0, len(original) - 1))]
    else:
        damaged = original + data.draw(st.binary(min_size=1, max_size=4096))
    _door(exported, tmp_path_factory.mktemp("flip"), damaged, monkeypatch)


_NAMES = st.one_of(
    st.builds(lambda n, tail: "../" * n + tail, st.integers(1, 4), st.sampled_from(["evil.txt", "home/x", ".ssh/k"])),
    st.builds(lambda tail: "/" + tail, st.sampled_from(["tmp/evil", "etc/passwd"])),
    st.text(st.sampled_from("ab./-_"), min_size=1, max_size=12),
)


@settings(SWEEP, max_examples=30)
@given(name=_NAMES, where=st.sampled_from(["replace-header", "replace-bundle", "extra"]))
def test_generated_member_names_are_refused(exported, tmp_path_factory, monkeypatch, name, where):
    with tarfile.open(fileobj=io.BytesIO(exported[0])) as tar:
        members = [(m.name, tar.extractfile(m).read()) for m in tar.getmembers()]
    header, bundle = members
    if where == "replace-header":
        members = [(name, header[1]), bundle]
    elif where == "replace-bundle":
        members = [header, (name, bundle[1])]
    else:
        members = [header, bundle, (name, b"planted")]
    if [n for n, _ in members] == [HEADER_NAME, BUNDLE_NAME]:
        return  # generated the very names of the format: not a bad input
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for member_name, payload in members:
            info = tarfile.TarInfo(member_name)
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    case = tmp_path_factory.mktemp("names")
    _door(exported, case, buffer.getvalue(), monkeypatch)
    assert not (case / "evil.txt").exists() and not (case.parent / "evil.txt").exists()
