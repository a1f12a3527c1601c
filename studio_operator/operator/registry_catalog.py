"""The operator's :class:`~studio_operator.operator.catalog.Catalog` over the personality registry (S3 / MinIO).

In a cluster, practices publish to the registry ``pipelines.registry`` opens
(an :class:`~pipelines.registry.S3Registry`), not to a local store. The
operator's ``AMADEUS_REGISTRY_URI`` names the registry of Practices without an
ama; a Practice labelled ``amadeus.dev/ama=<ama>`` (the studio's cluster
backend creates those, one namespace per ama) is checked against, and
publishes into, that ama's registry, in the studio's tenant layout
(``studio_operator/server/backends/cluster/store.py``)::

    AMADEUS_REGISTRY_URI                s3://<bucket>/<prefix>/personalities
    a Practice of ama <ama>             s3://<bucket>/<prefix>/tenants/<ama>/personalities

(``<prefix>`` may be empty: ``s3://amadeus/personalities`` and
``s3://amadeus/tenants/alice/personalities``.) A registry URI whose path does
not end in ``personalities`` is taken as the root itself:
``s3://b/root`` → ``s3://b/root/tenants/<ama>/personalities``.
"""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path
from urllib.parse import urlparse

from studio_operator.crd import GROUP
from studio_operator.operator.catalog import CatalogUnavailableError, PublishedVersion, check_versions
from studio_operator.operator.config import OperatorConfig

__all__ = ["AMA_LABEL", "RegistryCatalog", "catalog_for", "registry_uri_for"]

#: The label the studio puts on the Practices it creates for an ama (``practice_resources.AMA_LABEL``).
AMA_LABEL = f"{GROUP}/ama"

_LEAF = "personalities"


def registry_uri_for(registry_uri: str, ama: str = "") -> str:
    """The registry a Practice of ``ama`` publishes to (``registry_uri`` itself when ``ama`` is empty).

    Only ``s3://`` registries have tenants: a local (``""`` / ``file://``) registry is returned unchanged.
    """
    if not ama or not registry_uri.startswith("s3://"):
        return registry_uri
    parsed = urlparse(registry_uri)
    parts = [p for p in parsed.path.split("/") if p]
    if parts and parts[-1] == _LEAF:
        parts.pop()
    return f"s3://{parsed.netloc}/" + "/".join([*parts, "tenants", ama, _LEAF])


class RegistryCatalog:
    """Deus, versions and published versions in the S3 registry, per ama.

    Args:
        registry_uri: ``s3://bucket/prefix`` of Practices without an ama (see the module docstring).
        s3_endpoint: the S3 / MinIO API URL.
        access_key, secret_key, region: credentials (default: ``AWS_ACCESS_KEY_ID`` /
            ``AWS_SECRET_ACCESS_KEY`` / ``AWS_REGION`` of the operator's environment).
        backoff: the registry's retry policy (``pipelines.registry.Backoff``).

    A registry that does not answer after its retries raises
    :class:`CatalogUnavailableError` (the practice is retried, never failed).
    """

    def __init__(
        self,
        registry_uri: str,
        *,
        s3_endpoint: str,
        access_key: str | None = None,
        secret_key: str | None = None,
        region: str | None = None,
        backoff=None,
    ):
        from pipelines.registry import RegistryConfig

        if not registry_uri.startswith("s3://"):
            raise ValueError(f"RegistryCatalog needs an s3:// registry URI, got {registry_uri!r}")
        self.registry_uri = registry_uri
        self._config = RegistryConfig.from_env(
            uri=registry_uri, s3_endpoint=s3_endpoint, access_key=access_key, secret_key=secret_key, region=region
        )
        self._backoff = backoff
        self._registries: dict[str, object] = {}
        self._lock = threading.Lock()

    def registry(self, ama: str = ""):
        """The ``pipelines.registry.Registry`` of ``ama`` (opened once, then reused)."""
        from dataclasses import replace

        from pipelines.registry import open_registry

        with self._lock:
            if ama not in self._registries:
                config = replace(self._config, uri=registry_uri_for(self.registry_uri, ama), mlflow_tracking_uri="")
                self._registries[ama] = open_registry(config, backoff=self._backoff)
            return self._registries[ama]

    def _versions(self, deu: str, ama: str):
        from pipelines.registry import RegistryUnavailableError

        registry = self.registry(ama)
        try:
            return registry.versions(deu)
        except RegistryUnavailableError as exc:
            raise CatalogUnavailableError(f"personality registry {registry.location}: {exc}") from None

    def check_base(self, deu: str, practice_type: str, base_version: int | None, *, ama: str = "") -> None:
        """Raise :class:`UnknownBaseError` when ``ama``'s registry has nothing this practice can start from."""
        where = self.registry(ama).location
        check_versions(deu, practice_type, base_version, [row.version for row in self._versions(deu, ama)], where=where)

    def published_by(self, deu: str, practice_id: str, *, ama: str = "") -> PublishedVersion | None:
        """The newest version of ``deu`` whose manifest records ``practice_id`` (pulled and verified), or None."""
        from pipelines.registry import RegistryUnavailableError

        registry = self.registry(ama)
        for row in reversed(self._versions(deu, ama)):
            with tempfile.TemporaryDirectory(prefix="amadeus-operator-") as tmp:
                try:
                    bundle = registry.pull(deu, row.version, Path(tmp) / "bundle")
                except RegistryUnavailableError as exc:
                    raise CatalogUnavailableError(f"personality registry {registry.location}: {exc}") from None
                manifest = bundle.manifest
            if manifest.practice.practice_id == practice_id:
                return PublishedVersion(deu, row.version, {k: float(v) for k, v in manifest.metrics.items()})
        return None


def catalog_for(config: OperatorConfig):
    """The catalog the configuration names: :class:`RegistryCatalog` for an ``s3://``
    ``registry_uri`` (``AMADEUS_REGISTRY_URI`` with ``AMADEUS_S3_ENDPOINT``), else the
    local store at ``store_home`` (:class:`~studio_operator.operator.catalog.StoreCatalog`)."""
    from studio_operator.operator.catalog import StoreCatalog
    from studio_operator.operator.config import ConfigError

    if config.registry_uri.startswith("s3://"):
        if not config.s3_endpoint:
            raise ConfigError(
                f"AMADEUS_REGISTRY_URI={config.registry_uri!r} needs AMADEUS_S3_ENDPOINT (the S3 / MinIO API URL)"
            )
        return RegistryCatalog(config.registry_uri, s3_endpoint=config.s3_endpoint)
    return StoreCatalog(config.store_home)
