"""The personality bundle: one immutable, content-addressed directory.

Layout (see docs/contracts.md)::

    manifest.pb        amadeus.v1.PersonalityManifest, lists every other file
    decoder.npz        decoder weights (numpy path)
    decoder.tflite     single-step streaming decoder
    reverb_ir.npy      learned reverb impulse response (optional)
    saved_model/...    TensorFlow SavedModel for serving

The bundle's digest (its content address) is the sha256 of ``manifest.pb``;
the manifest holds the sha256 and size of every other file, so verifying the
manifest digest and then every file digest proves the whole bundle.

Writes are atomic: files go to a hidden staging directory next to the
destination, are flushed to disk, and the directory is renamed into place. A
failed write (a full disk, an interrupt) removes the staging directory and
never leaves a half-written bundle visible.
"""

from __future__ import annotations

import io
import os
import shutil
import tarfile
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from google.protobuf import json_format, message

from instrument_agent.proto import personality_pb2

from .digest import sha256_bytes, sha256_file
from .errors import BundleCorruptError, BundleNotFoundError, BundleSchemaError, BundleWriteError

__all__ = [
    "MANIFEST_NAME",
    "SCHEMA_VERSION",
    "Bundle",
    "contained_path",
    "manifest_to_dict",
    "pack_bundle",
    "read_bundle",
    "unpack_bundle",
    "write_bundle",
]

SCHEMA_VERSION = 1
"""The manifest schema this code writes and the newest it reads."""

MANIFEST_NAME = "manifest.pb"

FileSource = Path | str | bytes


@dataclass(frozen=True)
class Bundle:
    """A verified personality bundle on disk.

    Attributes:
        path: the bundle directory.
        manifest: the parsed ``PersonalityManifest``.
        digest: hex sha256 of ``manifest.pb`` (the content address).
    """

    path: Path
    manifest: personality_pb2.PersonalityManifest
    digest: str

    @property
    def deu(self) -> str:
        return self.manifest.deu

    @property
    def version(self) -> int:
        return self.manifest.version

    def file(self, name: str) -> Path:
        """Absolute path of a bundle file, or of a directory of files (e.g.
        ``saved_model``), listed in the manifest.

        Raises :class:`BundleCorruptError` when the manifest does not list it.
        """
        if not self.has_file(name):
            raise BundleCorruptError(f"{self.path}: bundle has no file {name!r}", str(self.path / name))
        return contained_path(self.path, name.rstrip("/"))

    def has_file(self, name: str) -> bool:
        return any(entry.path == name or entry.path.startswith(name.rstrip("/") + "/") for entry in self.manifest.files)

    def verify(self) -> None:
        """Re-hash every file; raise :class:`BundleCorruptError` on the first mismatch."""
        _verify_files(self.path, self.manifest)


def manifest_to_dict(manifest: personality_pb2.PersonalityManifest) -> dict:
    """The manifest as a JSON-able dict (snake_case keys), for display and MLflow tags."""
    return json_format.MessageToDict(manifest, preserving_proto_field_name=True)


def _parse_manifest(path: Path) -> tuple[personality_pb2.PersonalityManifest, str]:
    manifest_path = contained_path(path, MANIFEST_NAME)  # a manifest linked from outside is refused too
    if not manifest_path.is_file():
        if not path.exists():
            raise BundleNotFoundError(f"{path}: no such personality bundle")
        raise BundleNotFoundError(f"{path}: not a personality bundle (no {MANIFEST_NAME})")
    data = manifest_path.read_bytes()
    manifest = personality_pb2.PersonalityManifest()
    try:
        manifest.ParseFromString(data)
    except message.DecodeError as exc:
        raise BundleCorruptError(
            f"{manifest_path}: manifest is not a valid PersonalityManifest ({exc})", str(manifest_path)
        ) from None
    if manifest.schema_version > SCHEMA_VERSION:
        raise BundleSchemaError(
            f"{path}: personality schema {manifest.schema_version} is newer than this Amadeus "
            f"understands ({SCHEMA_VERSION}); upgrade amadeus to play it"
        )
    if manifest.schema_version < 1 or not manifest.deu:
        raise BundleCorruptError(f"{manifest_path}: manifest lacks a schema version or deu name", str(manifest_path))
    return manifest, sha256_bytes(data)


def contained_path(root: Path, name: str) -> Path:
    """``root / name`` for a path a manifest names, refusing anything that could leave the bundle.

    A bundle arriving from a studio (sync, download) or a shared file is untrusted: the
    name must be relative, in POSIX form, without ``..`` or empty components, and no
    component on the way (the file included) may be a symbolic link, so neither
    ``../../secret.txt``, ``/etc/passwd`` nor a link planted inside the bundle reaches
    outside it. Raises :class:`BundleCorruptError` naming the entry.
    """
    parts = name.split("/")
    if (
        not name
        or name.startswith("/")
        or "\\" in name
        or "\0" in name
        or any(part in ("", ".", "..") for part in parts)
        or Path(name).is_absolute()
    ):
        raise BundleCorruptError(f"{root}: {name!r} names a path outside the bundle", str(root))
    current = root
    for part in parts:
        current = current / part
        if current.is_symlink():
            raise BundleCorruptError(
                f"{current}: is a symbolic link; a bundle holds only regular files and folders", str(current)
            )
    return current


def _verify_files(path: Path, manifest: personality_pb2.PersonalityManifest) -> None:
    for entry in manifest.files:
        file_path = contained_path(path, entry.path)
        if not file_path.is_file():
            raise BundleCorruptError(f"{file_path}: file listed in the manifest is missing", str(file_path))
        size = file_path.stat().st_size
        if size != entry.size:
            raise BundleCorruptError(
                f"{file_path}: size {size} bytes, manifest says {entry.size} (truncated or changed)", str(file_path)
            )
        if sha256_file(file_path) != entry.sha256:
            raise BundleCorruptError(
                f"{file_path}: sha256 does not match the manifest (file was changed)", str(file_path)
            )


def read_bundle(path: str | Path, *, expected_digest: str | None = None, verify: bool = True) -> Bundle:
    """Open the bundle directory ``path``, checking its integrity.

    Args:
        path: bundle directory.
        expected_digest: when given, the manifest's sha256 must equal it
            (detects a swapped or edited manifest).
        verify: re-hash every file against the manifest (default).

    Raises:
        BundleNotFoundError, BundleCorruptError, BundleSchemaError.
    """
    path = Path(path)
    manifest, digest = _parse_manifest(path)
    if expected_digest is not None and digest != expected_digest:
        raise BundleCorruptError(
            f"{path / MANIFEST_NAME}: manifest digest {digest[:12]}… differs from the recorded "
            f"{expected_digest[:12]}… (manifest was changed)",
            str(path / MANIFEST_NAME),
        )
    if verify:
        _verify_files(path, manifest)
    return Bundle(path=path, manifest=manifest, digest=digest)


def _iter_sources(files: Mapping[str, FileSource]) -> Iterator[tuple[str, FileSource]]:
    """Expand directory sources into (relative path, file source) pairs."""
    for rel, source in sorted(files.items()):
        rel = rel.strip("/")
        if isinstance(source, (str, Path)) and Path(source).is_dir():
            for child in sorted(Path(source).rglob("*")):
                if child.is_file():
                    yield f"{rel}/{child.relative_to(source).as_posix()}", child
        else:
            yield rel, source


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_bundle(
    destination: str | Path,
    manifest: personality_pb2.PersonalityManifest,
    files: Mapping[str, FileSource],
    *,
    link: bool = False,
) -> Bundle:
    """Atomically write a new bundle at ``destination`` (which must not exist).

    Args:
        destination: final bundle directory.
        manifest: the manifest; its ``files`` and ``schema_version`` are filled
            in here (any given ``files`` entries are replaced).
        files: relative path → source: a file path, a directory (copied
            recursively under that prefix), or bytes.
        link: hard-link file sources instead of copying (for bundles that
            share files with their parent, e.g. a playerProfile tuning).

    Returns the verified :class:`Bundle`. Raises :class:`BundleWriteError` if
    anything fails (disk full, destination exists); nothing is left behind.
    """
    destination = Path(destination)
    staging = destination.parent / f".staging-{destination.name}-{uuid.uuid4().hex[:8]}"
    manifest = _copy(manifest)
    manifest.schema_version = SCHEMA_VERSION
    del manifest.files[:]
    current = "(staging)"
    try:
        destination.parent.mkdir(parents=True, exist_ok=True)
        staging.mkdir()
        for rel, source in _iter_sources(files):
            if rel == MANIFEST_NAME or ".." in rel.split("/"):
                raise BundleWriteError(f"{destination}: invalid bundle file name {rel!r}")
            current = rel
            target = staging / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(source, bytes):
                target.write_bytes(source)
            elif link:
                try:
                    os.link(source, target)
                except OSError:
                    shutil.copyfile(source, target)
            else:
                shutil.copyfile(source, target)
            if not link:
                with open(target, "rb+") as handle:
                    os.fsync(handle.fileno())
            manifest.files.add(path=rel, sha256=sha256_file(target), size=target.stat().st_size)
        current = MANIFEST_NAME
        with open(staging / MANIFEST_NAME, "wb") as handle:
            handle.write(manifest.SerializeToString(deterministic=True))
            handle.flush()
            os.fsync(handle.fileno())
        _fsync_dir(staging)
        current = "(publish)"
        if destination.exists():
            raise BundleWriteError(f"{destination}: a bundle already exists there (bundles are immutable)")
        os.rename(staging, destination)
        _fsync_dir(destination.parent)
    except BaseException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(exc, BundleWriteError):
            raise
        if isinstance(exc, OSError):
            raise BundleWriteError(
                f"{destination}: writing {current} failed: {exc.strerror or exc}; no new personality was published"
            ) from exc
        raise
    return read_bundle(destination)


def _copy(manifest: personality_pb2.PersonalityManifest) -> personality_pb2.PersonalityManifest:
    copy = personality_pb2.PersonalityManifest()
    copy.CopyFrom(manifest)
    return copy


def pack_bundle(bundle: Bundle | str | Path) -> bytes:
    """The bundle as an uncompressed tar archive (bytes), for transport.

    Members are sorted and carry no owner or time, so the same bundle always
    packs to the same bytes.
    """
    bundle = bundle if isinstance(bundle, Bundle) else read_bundle(bundle)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for rel in [MANIFEST_NAME] + sorted(entry.path for entry in bundle.manifest.files):
            info = tarfile.TarInfo(rel)
            data = (bundle.path / rel).read_bytes()
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def unpack_bundle(archive: bytes, destination: str | Path, *, expected_digest: str | None = None) -> Bundle:
    """Unpack a :func:`pack_bundle` archive atomically into ``destination`` and verify it.

    Raises :class:`BundleCorruptError` for a truncated or malformed archive,
    a member outside the bundle, or any digest mismatch; nothing is left at
    ``destination`` in that case.
    """
    destination = Path(destination)
    staging = destination.parent / f".unpack-{destination.name}-{uuid.uuid4().hex[:8]}"
    try:
        destination.parent.mkdir(parents=True, exist_ok=True)
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r:") as tar:
            for member in tar.getmembers():
                if not (member.isfile() or member.isdir()):
                    raise BundleCorruptError(
                        f"{destination}: personality archive entry refused: {member.name!r} is a link or "
                        "device, and a bundle holds only regular files and folders"
                    )
                contained_path(staging, member.name.rstrip("/"))  # absolute or ``..`` names are refused
            tar.extractall(staging, filter="data")
        bundle = read_bundle(staging, expected_digest=expected_digest)
        listed = {MANIFEST_NAME} | {entry.path for entry in bundle.manifest.files}
        present = {p.relative_to(staging).as_posix() for p in staging.rglob("*") if p.is_file()}
        if present - listed:
            raise BundleCorruptError(
                f"{destination}: archive holds files the manifest does not list: {sorted(present - listed)}"
            )
        if destination.exists():
            raise BundleWriteError(f"{destination}: a bundle already exists there (bundles are immutable)")
        os.rename(staging, destination)
    except BundleCorruptError as exc:  # named by the hidden staging folder: name the destination instead
        shutil.rmtree(staging, ignore_errors=True)
        where = exc.path.replace(str(staging), str(destination)) if exc.path else None
        raise BundleCorruptError(str(exc).replace(str(staging), str(destination)), where) from None
    except tarfile.FilterError as exc:  # an absolute path, a ``..`` or a link leaving the archive
        shutil.rmtree(staging, ignore_errors=True)
        raise BundleCorruptError(f"{destination}: personality archive entry refused: {exc}") from None
    except (tarfile.TarError, EOFError) as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise BundleCorruptError(f"{destination}: personality archive is truncated or malformed ({exc})") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return read_bundle(destination, expected_digest=expected_digest)
