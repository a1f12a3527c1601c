"""Personality versions in S3 / MinIO, through the ``minio`` client.

Bucket layout (``s3://<bucket>/<prefix>``)::

    <prefix>/<deu>/claims/v000007            empty; version 7 is taken (conditional put)
    <prefix>/<deu>/v000007/manifest.pb       the bundle, one object per file
    <prefix>/<deu>/v000007/decoder.npz ...
    <prefix>/<deu>/versions/v000007.json     commit marker, written last:
                                             {"deu", "version", "digest", "parent_version",
                                              "practice", "created", "files"}
    <prefix>/<deu>/champion/e000001.json     champion events, append-only (:mod:`.s3_champion`)

* **Allocation.** A publisher takes the next number above every marker and
  claim, and creates ``claims/vNNNNNN`` with ``If-None-Match: *``; S3 lets
  exactly one concurrent writer create it, the loser gets 412 and tries the
  next number. So two practices finishing at once get distinct versions.
* **Visibility.** A version exists only once its marker exists. Files and the
  manifest go up first; an upload interrupted before the marker leaves a claim
  and some unlisted objects, never a visible (or half) version. Numbers of
  abandoned claims are skipped, not reused.
* **Immutability.** Every object is written with ``If-None-Match: *`` and its
  sha256 in ``x-amz-meta-sha256``; an existing object is never overwritten
  (a retried put that already landed is recognised by its digest).
* **Verification.** ``pull`` checks ``sha256(manifest.pb)`` against the
  marker's digest, every file against the manifest while downloading, and
  then :func:`read_bundle` verifies the bundle as written to disk.
* **Reachability.** Transport errors and 5xx answers are retried with
  exponential backoff (:class:`~pipelines.registry._retry.Backoff`), then
  raise :class:`RegistryUnavailableError` naming the endpoint: the one policy
  of :class:`~pipelines.registry.s3_client.S3Connection`, which builds the client.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlparse

from instrument_agent.personality import (
    MANIFEST_NAME,
    Bundle,
    BundleCorruptError,
    ChampionEvent,
    UnknownDeuError,
    UnknownVersionError,
    champion_of,
    read_bundle,
    write_bundle,
)
from instrument_agent.personality.store import PersonalityStore, VersionInfo, validate_deu_name
from instrument_agent.proto import personality_pb2

from . import s3_champion
from ._retry import Backoff
from .errors import RegistryConfigError, RegistryConflictError
from .s3_client import S3Connection

__all__ = ["S3Registry", "parse_s3_uri"]

T = TypeVar("T")


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` → ``("bucket", "some/prefix")`` (prefix may be empty)."""
    parsed = urlparse(uri)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise RegistryConfigError(f"registry URI {uri!r}: expected s3://bucket[/prefix]")
    return parsed.netloc, parsed.path.strip("/")


def _practice_name(manifest: personality_pb2.PersonalityManifest) -> str:
    return personality_pb2.PracticeRecord.Kind.Name(manifest.practice.kind).lower()


class S3Registry:
    """Versioned personalities in an S3 bucket (MinIO, AWS S3, any S3 API).

    Args:
        uri: ``s3://bucket/prefix``.
        endpoint: the S3 API URL, e.g. ``http://minio.amadeus:9000`` (``https://`` for TLS; ``host:port`` is http).
        access_key, secret_key, region: credentials (None: anonymous).
        backoff: retry policy for unreachable or failing servers.
        create_bucket: create the bucket on first use when it does not exist.
        connection: an open :class:`S3Connection` to share (instead of ``endpoint`` and the credentials).
    """

    def __init__(
        self,
        uri: str,
        *,
        endpoint: str | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
        region: str | None = None,
        backoff: Backoff | None = None,
        create_bucket: bool = True,
        connection: S3Connection | None = None,
    ):
        self.bucket, self.prefix = parse_s3_uri(uri)
        if connection is None:
            if endpoint is None:
                raise RegistryConfigError(f"registry {uri}: name the S3 endpoint (the S3 / MinIO API URL)")
            connection = S3Connection(
                endpoint, access_key=access_key, secret_key=secret_key, region=region, backoff=backoff
            )
        elif endpoint is not None:
            raise RegistryConfigError(f"registry {uri}: give the S3 endpoint or an open S3Connection, not both")
        self.connection = connection
        self.endpoint = self.connection.endpoint
        self.backoff = self.connection.backoff
        self._client = self.connection.client
        self._create_bucket = create_bucket
        self._bucket_ready = False

    def __repr__(self) -> str:
        return f"S3Registry({self.location!r}, endpoint={self.endpoint!r})"

    @property
    def location(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}".rstrip("/")

    # -- transport ----------------------------------------------------------
    def _call(self, what: str, call: Callable[[], T]) -> T:
        return self.connection.call(what, call)

    def _ensure_bucket(self) -> None:
        if self._bucket_ready:
            return
        if not self._call(f"checking bucket {self.bucket}", lambda: self._client.bucket_exists(self.bucket)):
            if not self._create_bucket:
                raise RegistryConfigError(f"{self.endpoint}: bucket {self.bucket!r} does not exist")
            from minio.error import S3Error

            try:
                self._call(f"creating bucket {self.bucket}", lambda: self._client.make_bucket(self.bucket))
            except S3Error as exc:
                if exc.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                    raise
        self._bucket_ready = True

    def _key(self, *parts: str) -> str:
        return "/".join(p for p in (self.prefix, *parts) if p)

    def _list(self, prefix: str, recursive: bool = True) -> list[str]:
        self._ensure_bucket()
        return self._call(
            f"listing {prefix}",
            lambda: [o.object_name for o in self._client.list_objects(self.bucket, prefix=prefix, recursive=recursive)],
        )

    def _get(self, key: str) -> bytes:
        def read() -> bytes:
            response = self._client.get_object(self.bucket, key)
            try:
                return response.read()
            finally:
                response.close()
                response.release_conn()

        return self._call(f"reading {key}", read)

    def _put_if_absent(self, key: str, data: bytes) -> bool:
        """Create ``key`` unless it exists (``If-None-Match: *``). True when this call created it
        (or an earlier attempt of it did: same sha256), False when a different object is there."""
        from minio.error import S3Error

        digest = hashlib.sha256(data).hexdigest()
        headers: dict[str, str | list[str] | tuple[str]] = {  # minio's header mapping type
            "If-None-Match": "*",
            "x-amz-meta-sha256": digest,
            "Content-Type": "application/octet-stream",
        }
        try:
            # The public put_object has no conditional-write option; _put_object is the
            # plain PutObject call and forwards the headers as given.
            self._call(f"writing {key}", lambda: self._client._put_object(self.bucket, key, data, headers=headers))
            return True
        except S3Error as exc:
            if exc.code not in ("PreconditionFailed", "ConditionalRequestConflict"):
                raise
        stat = self._call(f"checking {key}", lambda: self._client.stat_object(self.bucket, key))
        existing = {k.lower(): v for k, v in (stat.metadata or {}).items()}.get("x-amz-meta-sha256")
        return existing == digest

    def _put_immutable(self, key: str, data: bytes) -> None:
        if not self._put_if_absent(key, data):
            raise RegistryConflictError(
                f"s3://{self.bucket}/{key} already exists with other content; versions are immutable"
            )

    # -- reading ------------------------------------------------------------
    def deus(self) -> list[str]:
        """Every deu with at least one published version, sorted."""
        root = f"{self.prefix}/" if self.prefix else ""
        names = {key[len(root) :].split("/")[0] for key in self._list(root, recursive=False)}
        return sorted(n for n in names if n and self._markers(n))

    def _markers(self, deu: str) -> dict[int, str]:
        prefix = self._key(validate_deu_name(deu), "versions") + "/"
        out = {}
        for key in self._list(prefix):
            name = key[len(prefix) :]
            if name.startswith("v") and name.endswith(".json") and name[1:-5].isdigit():
                out[int(name[1:-5])] = key
        return out

    def versions(self, deu: str) -> list[VersionInfo]:
        """The published versions of ``deu``, oldest first (from the commit markers)."""
        rows = []
        for version, key in sorted(self._markers(deu).items()):
            row = json.loads(self._get(key))
            rows.append(
                VersionInfo(
                    deu=deu,
                    version=version,
                    digest=row["digest"],
                    parent_version=int(row.get("parent_version", 0)),
                    practice=row.get("practice", ""),
                    created=row.get("created", ""),
                )
            )
        return rows

    def latest_version(self, deu: str) -> int:
        markers = self._markers(deu)
        if not markers:
            raise UnknownDeuError(f"no personality of deu {deu!r} in {self.location} ({self.endpoint})")
        return max(markers)

    def info(self, deu: str, version: int | None = None) -> VersionInfo:
        rows = self.versions(deu)
        if not rows:
            raise UnknownDeuError(f"no personality of deu {deu!r} in {self.location} ({self.endpoint})")
        if version is None:
            return rows[-1]
        for row in rows:
            if row.version == version:
                return row
        known = ", ".join(str(r.version) for r in rows)
        raise UnknownVersionError(f"deu {deu!r} has no version {version} in {self.location} (versions: {known})")

    # -- the champion (events in <deu>/champion/, see .s3_champion) ----------
    def champion_history(self, deu: str) -> list[ChampionEvent]:
        return s3_champion.champion_history(self, validate_deu_name(deu))

    def champion(self, deu: str) -> ChampionEvent | None:
        return champion_of(self.champion_history(deu))

    def promote(self, deu: str, version: int, *, by: str = "registry") -> ChampionEvent:
        return s3_champion.promote(self, validate_deu_name(deu), version, by=by)

    def rollback(self, deu: str, *, by: str = "registry") -> ChampionEvent:
        return s3_champion.rollback(self, validate_deu_name(deu), by=by)

    def default_version(self, deu: str) -> int:
        """The champion when set (and published with that digest), else the latest."""
        return s3_champion.default_version(self, validate_deu_name(deu))

    def pull(self, deu: str, version: int | None, destination: str | Path) -> Bundle:
        """Download one version (latest when None) to ``destination`` (must not exist), verified.

        Raises:
            BundleCorruptError naming the S3 object whose bytes do not match its digest;
            UnknownDeuError / UnknownVersionError; RegistryUnavailableError.
        """
        info = self.info(deu, version)
        destination = Path(destination)
        staging = destination.parent / f".pull-{destination.name}-{uuid.uuid4().hex[:8]}"
        base = self._key(deu, f"v{info.version:06d}")
        try:
            staging.mkdir(parents=True)
            raw = self._get(f"{base}/{MANIFEST_NAME}")
            if hashlib.sha256(raw).hexdigest() != info.digest:
                raise BundleCorruptError(
                    f"s3://{self.bucket}/{base}/{MANIFEST_NAME}: sha256 differs from the version's digest",
                    f"{base}/{MANIFEST_NAME}",
                )
            manifest = personality_pb2.PersonalityManifest.FromString(raw)
            for entry in manifest.files:
                data = self._get(f"{base}/{entry.path}")
                if hashlib.sha256(data).hexdigest() != entry.sha256:
                    raise BundleCorruptError(
                        f"s3://{self.bucket}/{base}/{entry.path}: sha256 differs from the manifest",
                        f"{base}/{entry.path}",
                    )
                target = staging / entry.path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
            (staging / MANIFEST_NAME).write_bytes(raw)
            read_bundle(staging, expected_digest=info.digest)
            staging.rename(destination)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return read_bundle(destination, expected_digest=info.digest)

    def fetch_into(self, store: PersonalityStore, deu: str, version: int | None = None) -> Bundle:
        """Copy one version into a local store under the same version number (no-op if it is there)."""
        info = self.info(deu, version)
        try:
            existing = store.get(deu, info.version)
            if existing.digest == info.digest:
                return existing
        except (UnknownDeuError, UnknownVersionError):
            pass
        with tempfile.TemporaryDirectory(prefix="amadeus-pull-") as tmp:
            pulled = self.pull(deu, info.version, Path(tmp) / "bundle")
            files = {entry.path: pulled.path / entry.path for entry in pulled.manifest.files}
            bundle = store.commit(deu, pulled.manifest, files, version=info.version)
        if bundle.digest != info.digest:
            raise BundleCorruptError(
                f"{bundle.path}: local copy of {deu} v{info.version} has another digest than {self.location}",
                str(bundle.path),
            )
        return bundle

    # -- writing ------------------------------------------------------------
    def _claim(self, deu: str, version: int | None) -> int:
        if version is not None:
            if not self._put_if_absent(self._key(deu, "claims", f"v{version:06d}"), b""):
                raise RegistryConflictError(f"deu {deu!r} version {version} is already taken in {self.location}")
            return version
        taken = list(self._markers(deu))
        claims_prefix = self._key(deu, "claims") + "/"
        for key in self._list(claims_prefix):
            name = key[len(claims_prefix) :]
            if name.startswith("v") and name[1:].isdigit():
                taken.append(int(name[1:]))
        candidate = max([0, *taken]) + 1
        token = uuid.uuid4().hex.encode()  # distinct bytes: a lost race is never mistaken for our own retry
        while not self._put_if_absent(self._key(deu, "claims", f"v{candidate:06d}"), token):
            candidate += 1
        return candidate

    def publish(
        self,
        bundle: Bundle,
        *,
        version: int | None = None,
        then: Callable[[Bundle, VersionInfo], None] | None = None,
    ) -> VersionInfo:
        """Publish a verified local bundle as the next version of its deu.

        The manifest is re-numbered (``version``, ``deu``) and re-written, so the
        published digest differs from the local one; parent fields are kept.

        Args:
            bundle: a bundle (from a local store or :func:`read_bundle`).
            version: publish under exactly this number (sync); default: the next free one.
            then: called with the published bundle (a local copy) and its info
                after the commit marker is written, e.g. to register it in MLflow.

        Returns:
            The new version's :class:`VersionInfo`.
        """
        deu = validate_deu_name(bundle.deu)
        bundle.verify()
        self._ensure_bucket()
        number = self._claim(deu, version)
        with tempfile.TemporaryDirectory(prefix="amadeus-publish-") as tmp:
            manifest = personality_pb2.PersonalityManifest()
            manifest.CopyFrom(bundle.manifest)
            manifest.deu, manifest.version = deu, number
            files = {entry.path: bundle.path / entry.path for entry in bundle.manifest.files}
            staged = write_bundle(Path(tmp) / "bundle", manifest, files, link=True)
            base = self._key(deu, f"v{number:06d}")
            for entry in staged.manifest.files:
                self._put_immutable(f"{base}/{entry.path}", (staged.path / entry.path).read_bytes())
            self._put_immutable(f"{base}/{MANIFEST_NAME}", (staged.path / MANIFEST_NAME).read_bytes())
            info = VersionInfo(
                deu=deu,
                version=number,
                digest=staged.digest,
                parent_version=staged.manifest.parent_version,
                practice=_practice_name(staged.manifest),
                created=staged.manifest.created.ToJsonString() if staged.manifest.HasField("created") else "",
            )
            marker = dict(info.to_dict(), files=len(staged.manifest.files))
            self._put_immutable(
                self._key(deu, "versions", f"v{number:06d}.json"), json.dumps(marker, indent=2).encode()
            )
            if then is not None:
                then(staged, info)
        return info

    def object_uri(self, deu: str, version: int) -> str:
        """``s3://bucket/prefix/<deu>/v000007`` (the bundle's folder)."""
        return f"s3://{self.bucket}/{self._key(deu, f'v{version:06d}')}"
