"""Finding the personality a request names: in the ama's store, or carried inline.

Verified bundles are remembered by digest (a cache: bundles are immutable and
content-addressed), and packed archives are kept under ``<home>/cache/packed``
so a download resumed on any studio instance gets the same bytes.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
import uuid
from collections import OrderedDict
from pathlib import Path

from instrument_agent.personality import (
    Bundle,
    BundleCorruptError,
    ChampionEvent,
    pack_bundle,
    sha256_file,
    unpack_bundle,
)
from instrument_agent.personality.store import VersionInfo
from instrument_agent.proto import studio_pb2
from studio_operator.server.backend import StudioBackend
from studio_operator.server.errors import InvalidRequestError, PreconditionError

__all__ = ["PersonalityResolver", "version_proto"]


def version_proto(info: VersionInfo, champion: ChampionEvent | None = None) -> studio_pb2.PersonalityVersion:
    """A store ``VersionInfo`` as the API message; ``champion`` (the deu's) sets its ``champion`` flag."""
    return studio_pb2.PersonalityVersion(
        deu=info.deu,
        version=info.version,
        digest=info.digest,
        parent_version=info.parent_version,
        practice=info.practice,
        created=info.created,
        champion=champion is not None and (champion.version, champion.digest) == (info.version, info.digest),
    )


class PersonalityResolver:
    """Resolves PersonalityRef / inline bundles for one studio home."""

    def __init__(self, backend: StudioBackend, home: str | Path, *, cache_size: int = 64):
        self.backend = backend
        self.home = Path(home)
        self._bundles: OrderedDict[str, Bundle] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def info(self, ama: str, ref: studio_pb2.PersonalityRef) -> VersionInfo:
        """The store row a ref names.

        Raises UnknownDeuError / UnknownVersionError (NOT_FOUND), PreconditionError for a digest mismatch.
        """
        if not ref.deu:
            raise InvalidRequestError("ref.deu: name the deu")
        if ref.version < 0:
            raise InvalidRequestError(f"ref.version: {ref.version} must be >= 0 (0 = the champion, else the latest)")
        store = self.backend.store(ama)
        row = store.info(ref.deu, ref.version or store.default_version(ref.deu))
        if ref.digest and ref.digest != row.digest:
            raise PreconditionError(
                f"deu {ref.deu!r} version {row.version} has digest {row.digest[:12]}…, "
                f"not the requested {ref.digest[:12]}…"
            )
        return row

    def bundle(self, ama: str, ref: studio_pb2.PersonalityRef) -> Bundle:
        """The verified bundle a ref names (verified once per digest, then cached)."""
        row = self.info(ama, ref)
        store = self.backend.store(ama)
        path = store.bundle_path(row.deu, row.version)
        with self._lock:
            cached = self._bundles.get(row.digest)
            if cached is not None and cached.path == path and path.is_dir():
                self._bundles.move_to_end(row.digest)
                return cached
        bundle = store.get(row.deu, row.version)
        with self._lock:
            self._bundles[row.digest] = bundle
            while len(self._bundles) > self._cache_size:
                self._bundles.popitem(last=False)
        return bundle

    @contextlib.contextmanager
    def open(self, ama: str, source: studio_pb2.PersonalitySource):
        """Context manager yielding the bundle of a PersonalitySource; an inline bundle is
        unpacked and verified into a private temporary directory, removed afterwards."""
        which = source.WhichOneof("source")
        if which == "ref":
            yield self.bundle(ama, source.ref)
            return
        if which != "bundle" or not source.bundle:
            raise InvalidRequestError("personality: give a ref (deu + version + digest) or an inline packed bundle")
        scratch = self.home / "cache" / "inline"
        scratch.mkdir(parents=True, exist_ok=True)
        target = Path(tempfile.mkdtemp(dir=scratch)) / "bundle"
        try:
            try:
                bundle = unpack_bundle(source.bundle, target)
            except BundleCorruptError as exc:
                raise InvalidRequestError(f"personality.bundle: not a valid packed personality ({exc})") from None
            yield bundle
        finally:
            shutil.rmtree(target.parent, ignore_errors=True)

    def packed(self, ama: str, ref: studio_pb2.PersonalityRef) -> tuple[VersionInfo, Path, str]:
        """``(row, archive path, archive sha256)``: the packed bundle on disk, made once per digest."""
        row = self.info(ama, ref)
        directory = self.home / "cache" / "packed"
        path = directory / f"{row.digest}.tar"
        digest_path = directory / f"{row.digest}.sha256"
        if not (path.is_file() and digest_path.is_file()):
            bundle = self.bundle(ama, ref)
            directory.mkdir(parents=True, exist_ok=True)
            tmp = directory / f".{row.digest}.{uuid.uuid4().hex[:8]}"
            try:
                tmp.write_bytes(pack_bundle(bundle))
                archive_sha = sha256_file(tmp)
                os.replace(tmp, path)
            finally:
                tmp.unlink(missing_ok=True)
            digest_tmp = directory / f".{row.digest}.sha256.{uuid.uuid4().hex[:8]}"
            digest_tmp.write_text(archive_sha)
            os.replace(digest_tmp, digest_path)
        return row, path, digest_path.read_text().strip()
