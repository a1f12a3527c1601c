"""The cluster backend's object store: practice audio and personalities in S3 / MinIO.

Layout in the bucket (``<prefix>`` from ``--s3-prefix``, may be empty)::

    <prefix>/tenants/<ama>/personalities/<deu>/...     the ama's registry (pipelines.registry.S3Registry layout:
                                                       claims/, vNNNNNN/<files>, versions/vNNNNNN.json)
    <prefix>/tenants/<ama>/practices/<practice id>/<file>   audio uploaded with a Practice call

A single-user studio (no tokens) drops ``tenants/<ama>/``: ``<prefix>/personalities``
and ``<prefix>/practices``. Personalities are read through
:class:`pipelines.registry.S3Registry` (marker-listed versions, sha256-verified
pulls) into a local, per-tenant cache under ``<home>/cache/cluster/``; the cache
is only a cache (content-addressed and verified), the bucket is the truth.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlparse

from instrument_agent.personality.store import PersonalityStore
from studio_operator.server.errors import (
    InvalidRequestError,
    PermissionDeniedError,
    PreconditionError,
    UnavailableError,
)

__all__ = ["ClusterObjectStore", "TenantStore"]

T = TypeVar("T")


@contextlib.contextmanager
def _registry_errors():
    """Registry failures as studio errors (UNAVAILABLE for an unreachable store)."""
    from pipelines.registry import RegistryConfigError, RegistryUnavailableError

    try:
        yield
    except RegistryUnavailableError as exc:
        raise UnavailableError(f"the personality store is unavailable: {exc}") from None
    except RegistryConfigError as exc:
        raise PreconditionError(f"the personality store is not set up: {exc}") from None


class TenantStore:
    """One ama's personalities, with the read API of :class:`~instrument_agent.personality.store.PersonalityStore`
    that the servicer uses (``deus``, ``versions``, ``info``, ``champion``, ``default_version``,
    ``champion_history``, ``promote``, ``rollback``, ``bundle_path``, ``get``).

    Listings and version info come from the bucket on every call (stateless);
    ``get`` pulls the bundle into the local cache once (verified) and reads it from there.
    """

    def __init__(self, registry, cache_home: Path):
        self.registry = registry
        self.cache = PersonalityStore(cache_home)
        self._lock = threading.Lock()

    def deus(self) -> list[str]:
        with _registry_errors():
            return self.registry.deus()

    def versions(self, deu: str):
        with _registry_errors():
            return self.registry.versions(deu)

    def info(self, deu: str, version: int | None = None):
        with _registry_errors():
            return self.registry.info(deu, version)

    def champion(self, deu: str):
        with _registry_errors():
            return self.registry.champion(deu)

    def default_version(self, deu: str) -> int:
        with _registry_errors():
            return self.registry.default_version(deu)

    def champion_history(self, deu: str):
        with _registry_errors():
            return self.registry.champion_history(deu)

    def promote(self, deu: str, version: int, *, by: str = "cli"):
        with _registry_errors():
            return self.registry.promote(deu, version, by=by)

    def rollback(self, deu: str, *, by: str = "cli"):
        with _registry_errors():
            return self.registry.rollback(deu, by=by)

    def bundle_path(self, deu: str, version: int) -> Path:
        return self.cache.bundle_path(deu, version)

    def get(self, deu: str, version: int | None = None, *, verify: bool = True):
        with _registry_errors(), self._lock:  # one pull per tenant at a time: no two commits of one version
            return self.registry.fetch_into(self.cache, deu, version)


class ClusterObjectStore:
    """Practice audio uploads and per-tenant personality registries in one bucket.

    Args:
        endpoint: S3 API ``host:port`` or URL (``http://minio.amadeus:9000``).
        bucket / prefix: where everything goes.
        access_key / secret_key: credentials (None: anonymous).
        secure: HTTPS when ``endpoint`` has no scheme.
        cache_home: local directory for the verified personality cache.
        attempts: tries of a failing S3 call before UNAVAILABLE (the registry's backoff:
            :class:`pipelines.registry.S3Connection`, 0.1 s doubling up to 1 s between them).
    """

    def __init__(
        self,
        endpoint: str,
        *,
        bucket: str,
        prefix: str = "",
        access_key: str | None = None,
        secret_key: str | None = None,
        secure: bool = True,
        cache_home: Path,
        attempts: int = 3,
    ):
        from pipelines.registry import Backoff, RegistryConfigError, S3Connection

        try:
            self.connection = S3Connection(
                endpoint,
                access_key=access_key,
                secret_key=secret_key,
                secure=secure,
                backoff=Backoff(attempts=attempts, base_delay=0.1, max_delay=1.0),
                max_connections=16,
            )
        except RegistryConfigError as exc:
            raise ValueError(f"--s3-endpoint: {exc}") from None
        self.endpoint = self.connection.endpoint
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.cache_home = Path(cache_home)
        self._client = self.connection.client
        self._stores: dict[str, TenantStore] = {}
        self._lock = threading.Lock()
        self._bucket_ready = False

    # -- layout ----------------------------------------------------------------
    def tenant_prefix(self, ama: str) -> str:
        """``<prefix>/tenants/<ama>`` (``<prefix>`` alone for a single-user studio)."""
        return "/".join(p for p in (self.prefix, "tenants" if ama else "", ama) if p)

    def _key(self, ama: str, *parts: str) -> str:
        return "/".join(p for p in (self.tenant_prefix(ama), *parts) if p)

    def registry_uri(self, ama: str) -> str:
        return f"s3://{self.bucket}/{self._key(ama, 'personalities')}"

    def practice_uri(self, ama: str, practice_id: str) -> str:
        return f"s3://{self.bucket}/{self._key(ama, 'practices', practice_id)}"

    # -- personalities -----------------------------------------------------------
    def store(self, ama: str) -> TenantStore:
        """The ama's personalities (an :class:`S3Registry` per tenant prefix)."""
        with self._lock:
            store = self._stores.get(ama)
            if store is None:
                from pipelines.registry import S3Registry

                with _registry_errors():
                    registry = S3Registry(self.registry_uri(ama), connection=self.connection)
                cache = self.cache_home / (f"tenants/{ama}" if ama else "single")
                store = self._stores[ama] = TenantStore(registry, cache)
            return store

    # -- practice audio ---------------------------------------------------------
    def _s3(self, what: str, call: Callable[[], T]) -> T:
        """Run one S3 call with the connection's backoff; UNAVAILABLE naming the endpoint when every attempt failed."""
        from pipelines.registry import RegistryUnavailableError

        try:
            return self.connection.call(what, call)
        except RegistryUnavailableError as exc:
            raise UnavailableError(str(exc)) from None

    def _ensure_bucket(self) -> None:
        if self._bucket_ready:
            return
        from minio.error import S3Error

        if not self._s3(f"checking bucket {self.bucket}", lambda: self._client.bucket_exists(self.bucket)):
            try:
                self._s3(f"creating bucket {self.bucket}", lambda: self._client.make_bucket(self.bucket))
            except S3Error as exc:
                if exc.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                    raise
        self._bucket_ready = True

    def upload_practice_audio(
        self, ama: str, practice_id: str, files: dict[str, Path], digests: dict[str, str]
    ) -> dict[str, str]:
        """Upload the practice's files; returns ``{name: s3 URI}``. Each object carries its sha256."""
        self._ensure_bucket()
        uris = {}
        for name, path in files.items():
            key = self._key(ama, "practices", practice_id, name)
            metadata = {"sha256": digests[name]} if digests.get(name) else None
            self._s3(
                f"uploading {key}",
                lambda key=key, path=path, metadata=metadata: self._client.fput_object(
                    self.bucket, key, str(path), content_type="application/octet-stream", metadata=metadata
                ),
            )
            uris[name] = f"s3://{self.bucket}/{key}"
        return uris

    def remove_practice_audio(self, ama: str, practice_id: str) -> None:
        """Remove whatever a failed submission uploaded (best effort)."""
        prefix = self._key(ama, "practices", practice_id) + "/"
        with contextlib.suppress(Exception):
            for item in self._client.list_objects(self.bucket, prefix=prefix, recursive=True):
                self._client.remove_object(self.bucket, item.object_name)

    def check_audio_uri(self, ama: str, uri: str, field: str) -> None:
        """Audio by reference must be an existing object under the ama's own prefix in the studio's bucket.

        The practice runs with the studio's storage credentials, so a URI
        elsewhere (another tenant's objects, another bucket, a path on a mounted
        volume) would read what the ama may not: PERMISSION_DENIED. An object
        that is not there is INVALID_ARGUMENT.
        """
        from minio.error import S3Error

        parsed = urlparse(uri)
        own = self._key(ama) + "/" if self.tenant_prefix(ama) else ""
        if parsed.scheme != "s3":
            raise PermissionDeniedError(
                f"{field} {uri!r}: this studio reads audio from s3://{self.bucket}/{own} only; upload the file instead"
            )
        key = parsed.path.lstrip("/")
        if parsed.netloc != self.bucket or not key.startswith(own) or ".." in key.split("/"):
            raise PermissionDeniedError(
                f"{field} {uri!r}: outside this ama's audio (s3://{self.bucket}/{own}…); upload the file instead"
            )
        try:
            stat = self._s3(f"checking {key}", lambda: self._client.stat_object(self.bucket, key))
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchBucket", "NoSuchObject", "NotFound"):
                raise InvalidRequestError(f"{field} {uri!r}: no such object") from None
            raise
        if not stat.size:
            raise InvalidRequestError(f"{field} {uri!r}: the object is empty")
