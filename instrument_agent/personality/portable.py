"""Portable personalities: one verified ``.amadeus`` file per version, with its lineage.

The file is an uncompressed POSIX tar archive with exactly two regular members, in order::

    amadeus-personality.json   the header (below)
    bundle.tar                 the bundle as :func:`~instrument_agent.personality.pack_bundle` packs it

The header::

    {"format": "amadeus-personality", "format_version": 1,
     "deu": "violin", "version": 3, "digest": "<sha256 of manifest.pb>",
     "bundle_sha256": "<sha256 of bundle.tar>", "bundle_size": 123456,
     "lineage": [{"deu", "version", "digest", "parent_version", "practice", "created"}, ...],  # newest first
     "champion": true, "exported": "2026-12-02T05:00:00Z", "amadeus": "0.1.0"}

Reading (:func:`read_portable`) checks, before anything is written to a store: the archive
holds those two members and nothing else (no links, no other names, so nothing can land
outside), the header parses, ``bundle.tar`` has the recorded size and sha256, it unpacks
(member checks of :func:`unpack_bundle`) to a bundle whose manifest digest is the header's
``digest``, every file matches the manifest, and the manifest names the header's deu and
version. A truncated, changed or path-traversing file raises :class:`PortableArchiveError`
naming the file. These checks prove integrity (nothing was cut or changed on the way), not
authorship: anyone can write a valid file.

Importing (:func:`import_portable`) into a store:

* **restore**: the target deu is the exported deu and has no version of that number: the
  bundle is stored unchanged at its own number, so its digest is the exported one;
* **already there**: the same version with the same digest is in the store: nothing changes;
* **append**: otherwise (``--as`` another name, or the number holds other content) it becomes
  the target's next version; its manifest records where it came from in the practice params
  ``origin.deu``, ``origin.version``, ``origin.digest`` and ``origin.lineage`` (the exported
  lineage, JSON), and ``parent_version`` is 0 (its parent is not a version of this deu).

Either way the champion is not changed: promote the imported version to play it by default.
"""

from __future__ import annotations

import io
import json
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from instrument_agent.personality.atomic import atomic_writer
from instrument_agent.personality.bundle import Bundle, pack_bundle, unpack_bundle
from instrument_agent.personality.champion import now_rfc3339
from instrument_agent.personality.digest import sha256_bytes
from instrument_agent.personality.errors import BundleCorruptError, PersonalityError
from instrument_agent.personality.store import PersonalityStore, validate_deu_name
from instrument_agent.proto import personality_pb2

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "HEADER_NAME",
    "ImportResult",
    "PortableArchiveError",
    "PortableHeader",
    "export_portable",
    "import_portable",
    "read_portable",
]

FORMAT = "amadeus-personality"
FORMAT_VERSION = 1
HEADER_NAME = "amadeus-personality.json"
BUNDLE_NAME = "bundle.tar"
_MAX_HEADER = 1 << 20  # bytes: a header is a few kB; a huge one is not ours


class PortableArchiveError(BundleCorruptError):
    """A ``.amadeus`` file is truncated, changed, not ours, or has a member outside the format."""


@dataclass(frozen=True)
class PortableHeader:
    """The parsed ``amadeus-personality.json`` of a ``.amadeus`` file."""

    deu: str
    version: int
    digest: str
    bundle_sha256: str
    bundle_size: int
    lineage: list[dict]
    champion: bool
    exported: str

    def to_dict(self) -> dict:
        return {"format": FORMAT, "format_version": FORMAT_VERSION, **self.__dict__}


@dataclass(frozen=True)
class ImportResult:
    """What an import did: ``action`` is ``restored``, ``appended`` or ``already-there``."""

    action: str
    bundle: Bundle
    header: PortableHeader


def export_portable(store: PersonalityStore, deu: str, version: int | None, out_path: str | Path) -> PortableHeader:
    """Write one version of ``deu`` (default: the champion, else the latest) to ``out_path`` atomically.

    The bundle is verified first (a changed store bundle is not exported). Returns the header written.
    """
    number = store.resolve(deu, version)
    bundle = store.get(deu, number)
    packed = pack_bundle(bundle)
    champion = store.champion(deu)
    header = PortableHeader(
        deu=deu,
        version=number,
        digest=bundle.digest,
        bundle_sha256=sha256_bytes(packed),
        bundle_size=len(packed),
        lineage=[row.to_dict() for row in store.lineage(deu, number)],
        champion=champion is not None and champion.version == number,
        exported=now_rfc3339(),
    )
    raw_header = json.dumps(header.to_dict(), indent=2, sort_keys=True).encode()
    with atomic_writer(out_path) as handle:
        with tarfile.open(fileobj=handle, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for name, data in ((HEADER_NAME, raw_header), (BUNDLE_NAME, packed)):
                info = tarfile.TarInfo(name)
                info.size, info.mode = len(data), 0o644
                tar.addfile(info, io.BytesIO(data))
    return header


def _members(path: Path) -> dict[str, bytes]:
    try:
        with tarfile.open(path, mode="r:") as tar:
            members = tar.getmembers()
            names = [m.name for m in members]
            if names != [HEADER_NAME, BUNDLE_NAME]:
                raise PortableArchiveError(
                    f"{path}: not a portable personality: it holds {names[:5]!r}, "
                    f"expected exactly [{HEADER_NAME!r}, {BUNDLE_NAME!r}]",
                    str(path),
                )
            out = {}
            for member in members:
                if not member.isfile():
                    raise PortableArchiveError(f"{path}: entry {member.name!r} is not a regular file", str(path))
                if member.name == HEADER_NAME and member.size > _MAX_HEADER:
                    raise PortableArchiveError(f"{path}: header of {member.size} bytes is too large", str(path))
                handle = tar.extractfile(member)
                assert handle is not None  # a regular file
                data = handle.read()
                if len(data) != member.size:
                    raise PortableArchiveError(f"{path}: {member.name} is truncated", str(path))
                out[member.name] = data
            return out
    except (tarfile.TarError, EOFError, OSError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise PersonalityError(f"{path}: no such file") from None
        raise PortableArchiveError(f"{path}: not a readable .amadeus archive (truncated or malformed: {exc})") from None


def _header(path: Path, raw: bytes) -> PortableHeader:
    try:
        data = json.loads(raw)
        if data.get("format") != FORMAT:
            raise ValueError(f"format {data.get('format')!r} is not {FORMAT!r}")
        if int(data.get("format_version", 0)) > FORMAT_VERSION:
            raise ValueError(f"format version {data['format_version']} is newer than this Amadeus reads; upgrade")
        return PortableHeader(
            deu=validate_deu_name(str(data["deu"])),
            version=int(data["version"]),
            digest=str(data["digest"]),
            bundle_sha256=str(data["bundle_sha256"]),
            bundle_size=int(data["bundle_size"]),
            lineage=list(data.get("lineage", [])),
            champion=bool(data.get("champion", False)),
            exported=str(data.get("exported", "")),
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise PortableArchiveError(f"{path}: {HEADER_NAME} is not a valid header ({exc})", str(path)) from None


def read_portable(path: str | Path, destination: str | Path) -> tuple[PortableHeader, Bundle]:
    """Verify the ``.amadeus`` file ``path`` and unpack its bundle to ``destination`` (must not exist).

    Raises :class:`PortableArchiveError` (nothing is left at ``destination``).
    """
    path = Path(path)
    members = _members(path)
    header = _header(path, members[HEADER_NAME])
    packed = members[BUNDLE_NAME]
    if len(packed) != header.bundle_size or sha256_bytes(packed) != header.bundle_sha256:
        raise PortableArchiveError(
            f"{path}: {BUNDLE_NAME} does not match its recorded size and sha256 (the file was changed or cut)",
            str(path),
        )
    try:
        bundle = unpack_bundle(packed, destination, expected_digest=header.digest)
    except BundleCorruptError as exc:  # named by the scratch folder: name the entry instead
        where = str(destination)
        reason = str(exc).replace(where + "/", "").replace(where, "the bundle")
        raise PortableArchiveError(f"{path}: the personality inside is refused: {reason}", str(path)) from None
    if (bundle.deu, bundle.version) != (header.deu, header.version):
        shutil.rmtree(bundle.path, ignore_errors=True)
        raise PortableArchiveError(
            f"{path}: header says {header.deu} v{header.version}, the manifest {bundle.deu} v{bundle.version}",
            str(path),
        )
    return header, bundle


def import_portable(store: PersonalityStore, path: str | Path, *, as_deu: str | None = None) -> ImportResult:
    """Verify ``path`` completely, then add it to ``store`` (see the module docstring for the rules).

    Raises :class:`PortableArchiveError` with the store unchanged.
    """
    target = validate_deu_name(as_deu) if as_deu else None
    store.home.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=store.home, prefix=".import-") as scratch:
        header, bundle = read_portable(path, Path(scratch) / "bundle")
        deu = target or header.deu
        local = {row.version: row for row in store.versions(deu)}
        files = {entry.path: bundle.path / entry.path for entry in bundle.manifest.files}
        if deu == header.deu and header.version in local and local[header.version].digest == header.digest:
            return ImportResult("already-there", store.get(deu, header.version), header)
        if deu == header.deu and header.version not in local:
            stored = store.commit(deu, bundle.manifest, files, version=header.version)
            return ImportResult("restored", stored, header)
        manifest = personality_pb2.PersonalityManifest()
        manifest.CopyFrom(bundle.manifest)
        manifest.parent_version, manifest.parent_digest = 0, ""
        params = manifest.practice.params
        params["origin.deu"], params["origin.version"] = header.deu, str(header.version)
        params["origin.digest"] = header.digest
        params["origin.lineage"] = json.dumps(header.lineage, separators=(",", ":"))
        return ImportResult("appended", store.commit(deu, manifest, files), header)
