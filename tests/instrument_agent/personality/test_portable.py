"""Portable personalities: export one version to a verified .amadeus file and import it elsewhere;
a tampered, truncated or path-traversing file is refused and the store stays byte-identical."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile

import pytest
from _perform_support import make_personality

from instrument_agent.personality.portable import (
    BUNDLE_NAME,
    HEADER_NAME,
    PortableArchiveError,
    export_portable,
    import_portable,
)
from instrument_agent.personality.store import PersonalityStore


@pytest.fixture
def source(tmp_path):
    (tmp_path / "src").mkdir()
    for seed in range(3):
        make_personality(tmp_path / "src", seed=seed)  # cello v1..v3
    store = PersonalityStore(tmp_path / "src" / "home")
    store.derive(store.get("cello", 3))  # v4: a tuning of v3 (lineage 4 → 3)
    return store


def tree(root):
    """sha256 of every file (and the set of names) under ``root``: a byte-level picture of a store."""
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
        for p in sorted(root.rglob("*"))
    }


def test_round_trip_restores_the_same_version_and_digest(tmp_path, source):
    header = export_portable(source, "cello", 4, tmp_path / "cello.amadeus")
    assert [row["version"] for row in header.lineage] == [4, 3]  # newest first, back to v3 (a first imitation)
    target = PersonalityStore(tmp_path / "dst")
    result = import_portable(target, tmp_path / "cello.amadeus")
    assert result.action == "restored"
    assert (result.bundle.version, result.bundle.digest) == (4, source.info("cello", 4).digest)
    assert target.get("cello", 4).manifest.parent_version == 3
    again = import_portable(target, tmp_path / "cello.amadeus")
    assert again.action == "already-there" and [v.version for v in target.versions("cello")] == [4]


def test_export_defaults_to_the_champion(tmp_path, source):
    source.promote("cello", 2)
    header = export_portable(source, "cello", None, tmp_path / "c.amadeus")
    assert (header.version, header.champion) == (2, True)


def test_import_into_an_existing_deu_appends_with_its_origin(tmp_path, source):
    export_portable(source, "cello", 2, tmp_path / "v2.amadeus")
    target = PersonalityStore(tmp_path / "dst")
    (tmp_path / "dst-make").mkdir()
    make_personality(tmp_path / "dst-make", seed=7)  # another cello v1 …
    other = PersonalityStore(tmp_path / "dst-make" / "home").get("cello", 1)
    target.commit("cello", other.manifest, {e.path: other.path / e.path for e in other.manifest.files})
    target.commit("cello", other.manifest, {e.path: other.path / e.path for e in other.manifest.files})  # … and v2
    result = import_portable(target, tmp_path / "v2.amadeus")
    assert (result.action, result.bundle.version) == ("appended", 3)
    params = result.bundle.manifest.practice.params
    assert params["origin.digest"] == source.info("cello", 2).digest
    assert (params["origin.deu"], params["origin.version"]) == ("cello", "2")
    assert [row["version"] for row in json.loads(params["origin.lineage"])] == [2]
    assert result.bundle.manifest.parent_version == 0
    renamed = import_portable(target, tmp_path / "v2.amadeus", as_deu="viola")
    assert (renamed.action, renamed.bundle.deu, renamed.bundle.version) == ("appended", "viola", 1)
    # the model files are the exported ones
    original = source.get("cello", 2)
    assert {e.path: e.sha256 for e in renamed.bundle.manifest.files} == {
        e.path: e.sha256 for e in original.manifest.files
    }


def _members(path):
    with tarfile.open(path) as tar:
        return [(m.name, tar.extractfile(m).read()) for m in tar.getmembers()]


def _write(path, members):
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def _consistent(members, bundle_tar):
    """Members with ``bundle_tar`` in place and a header whose sha256 and size agree (a crafted file)."""
    header = json.loads(dict(members)[HEADER_NAME])
    header["bundle_sha256"] = hashlib.sha256(bundle_tar).hexdigest()
    header["bundle_size"] = len(bundle_tar)
    return [(HEADER_NAME, json.dumps(header).encode()), (BUNDLE_NAME, bundle_tar)]


def _traversing_bundle(bundle_tar):
    members = _members_bytes(bundle_tar)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in [*members, ("../../escaped.txt", b"outside")]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _members_bytes(data):
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return [(m.name, tar.extractfile(m).read()) for m in tar.getmembers()]


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


BAD_FILES = {
    "a flipped byte in a model file": lambda raw, m: _flip(
        raw, raw.index(b"PK") + 200 if b"PK" in raw else len(raw) // 2
    ),
    "truncated to half": lambda raw, m: raw[: len(raw) // 2],
    "truncated header": lambda raw, m: raw[:700],
    "an outer member outside the archive": lambda raw, m: _tar([*m, ("../../evil.txt", b"x")]),
    "an absolute outer member": lambda raw, m: _tar([("/tmp/evil.json", m[0][1]), m[1]]),
    "a path-traversing bundle member (consistent header)": lambda raw, m: _tar(
        _consistent(m, _traversing_bundle(m[1][1]))
    ),
    "a bundle file changed (consistent header)": lambda raw, m: _tar(
        _consistent(m, _flip(m[1][1], len(m[1][1]) - 3000))
    ),
    "a header naming another digest": lambda raw, m: _tar(
        [(HEADER_NAME, m[0][1].replace(b'"digest": "', b'"digest": "0')), m[1]]
    ),
    "not an archive": lambda raw, m: b"this is not a personality" * 40,
}


def _tar(members):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.mark.parametrize("damage", sorted(BAD_FILES))
def test_a_bad_file_is_refused_and_the_store_is_unchanged(tmp_path, source, damage):
    good = tmp_path / "good.amadeus"
    export_portable(source, "cello", 4, good)
    bad = tmp_path / "bad.amadeus"
    bad.write_bytes(BAD_FILES[damage](good.read_bytes(), _members(good)))
    target = PersonalityStore(tmp_path / "dst")
    (tmp_path / "dst-make").mkdir()
    make_personality(tmp_path / "dst-make", seed=9)
    existing = PersonalityStore(tmp_path / "dst-make" / "home").get("cello", 1)
    target.commit("cello", existing.manifest, {e.path: existing.path / e.path for e in existing.manifest.files})
    target.promote("cello", 1)
    before = tree(target.home)
    with pytest.raises(PortableArchiveError, match="bad.amadeus"):
        import_portable(target, bad)
    assert tree(target.home) == before  # byte-identical: nothing added, nothing left behind
    assert not (tmp_path / "escaped.txt").exists() and not (tmp_path.parent / "escaped.txt").exists()


def test_the_cli_exports_and_imports_and_names_a_bad_file(tmp_path, source, monkeypatch, capsys):
    from instrument_agent.cli import main

    monkeypatch.setenv("AMADEUS_HOME", str(source.home))
    out = tmp_path / "cello.amadeus"
    assert main(["personalities", "export", "cello", "--version", "3", "-o", str(out)]) == 0
    assert "cello v3" in capsys.readouterr().out
    assert main(["personalities", "export", "cello", "-o", str(out), "--format", "midi"]) == 2
    assert "unknown --format 'midi' (choose amadeus, ddsp-vst, onnx)" in " ".join(capsys.readouterr().err.split())
    monkeypatch.setenv("AMADEUS_HOME", str(tmp_path / "dst"))
    assert main(["personalities", "import", str(out), "--as", "viola"]) == 0
    assert "appended as viola v1" in capsys.readouterr().out
    out.write_bytes(out.read_bytes()[: out.stat().st_size * 4 // 5])
    before = tree(tmp_path / "dst")
    assert main(["personalities", "import", str(out)]) == 2
    err = capsys.readouterr().err
    assert "cello.amadeus" in err and "truncated" in err
    assert tree(tmp_path / "dst") == before
