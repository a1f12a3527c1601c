"""Choosing the registry by configuration, and the registry facade.

Configuration (environment, or :class:`RegistryConfig` fields):

========================  =====================================================
``AMADEUS_REGISTRY``      ``""`` / ``file://<home>``: the local store (default);
                          ``s3://bucket/prefix``: S3 / MinIO
``AMADEUS_S3_ENDPOINT``   S3 API URL (falls back to ``AWS_ENDPOINT_URL_S3``,
                          ``AWS_ENDPOINT_URL``, ``MLFLOW_S3_ENDPOINT_URL``)
``AWS_ACCESS_KEY_ID``,    credentials (MinIO's access/secret keys)
``AWS_SECRET_ACCESS_KEY``
``AWS_REGION``            optional region
``MLFLOW_TRACKING_URI``   when set, every published version is also recorded
                          in this MLflow tracking server and model registry
========================  =====================================================
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlparse

from instrument_agent.personality import Bundle, ChampionEvent
from instrument_agent.personality.store import PersonalityStore, VersionInfo

from ._retry import Backoff
from .errors import RegistryConfigError
from .local import LocalRegistry
from .mlflow_catalog import MlflowCatalog
from .s3 import S3Registry

__all__ = ["Registry", "RegistryConfig", "open_registry"]


@dataclass(frozen=True)
class RegistryConfig:
    """Where personalities are published. Empty ``uri`` = the local store under ``home``."""

    uri: str = ""
    s3_endpoint: str = ""
    access_key: str | None = None
    secret_key: str | None = None
    region: str | None = None
    mlflow_tracking_uri: str = ""
    home: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: str | None) -> RegistryConfig:
        """Read the variables above; keyword ``overrides`` that are not empty win."""
        env = os.environ if env is None else env
        endpoint = next(
            (
                env[k]
                for k in ("AMADEUS_S3_ENDPOINT", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "MLFLOW_S3_ENDPOINT_URL")
                if env.get(k)
            ),
            "",
        )
        config = cls(
            uri=env.get("AMADEUS_REGISTRY") or env.get("AMADEUS_REGISTRY_URI", ""),  # the chart/operator name
            s3_endpoint=endpoint,
            access_key=env.get("AWS_ACCESS_KEY_ID") or None,
            secret_key=env.get("AWS_SECRET_ACCESS_KEY") or None,
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or None,
            mlflow_tracking_uri=env.get("MLFLOW_TRACKING_URI") or env.get("AMADEUS_MLFLOW_TRACKING_URI", ""),
            home=env.get("AMADEUS_HOME") or None,
        )
        return replace(config, **{k: v for k, v in overrides.items() if v not in (None, "")})


class Registry:
    """A version store (local or S3) plus an optional MLflow catalog.

    ``publish`` writes the version to the store (which allocates its number),
    then registers that exact bundle in MLflow. The store is the source of
    truth: should MLflow stay unreachable, the version is published and
    :meth:`sync_catalog` registers it later (registration is idempotent).
    """

    def __init__(self, store: LocalRegistry | S3Registry, catalog: MlflowCatalog | None = None):
        self.store = store
        self.catalog = catalog

    def __repr__(self) -> str:
        return f"Registry({self.store!r}, catalog={self.catalog!r})"

    @property
    def location(self) -> str:
        return self.store.location

    def versions(self, deu: str) -> list[VersionInfo]:
        return self.store.versions(deu)

    def latest_version(self, deu: str) -> int:
        return self.store.latest_version(deu)

    def publish(self, bundle: Bundle, *, version: int | None = None) -> VersionInfo:
        """Publish a local bundle as the next version of its deu (store, then catalog)."""

        def register(published: Bundle, info: VersionInfo) -> None:
            if self.catalog is not None:
                self.catalog.register(published, store_uri=self._uri_of(info))

        return self.store.publish(bundle, version=version, then=register)

    def champion(self, deu: str) -> ChampionEvent | None:
        """The champion in the store (the source of truth; MLflow's alias mirrors it)."""
        return self.store.champion(deu)

    def champion_history(self, deu: str) -> list[ChampionEvent]:
        return self.store.champion_history(deu)

    def default_version(self, deu: str) -> int:
        """The champion, else the latest."""
        return self.store.default_version(deu)

    def promote(self, deu: str, version: int, *, by: str = "registry") -> ChampionEvent:
        """Make ``version`` the champion: in the store (atomic / conditional), then MLflow's ``champion``
        alias (registering the version first when MLflow missed it)."""
        event = self.store.promote(deu, version, by=by)
        self._mirror_champion(deu, event)
        return event

    def rollback(self, deu: str, *, by: str = "registry") -> ChampionEvent:
        """Back to the previous champion, in the store and then in MLflow."""
        event = self.store.rollback(deu, by=by)
        self._mirror_champion(deu, event)
        return event

    def _mirror_champion(self, deu: str, event: ChampionEvent) -> None:
        if self.catalog is None:
            return
        if self.catalog.find(deu, event.version) is None:
            self.sync_catalog(deu)
        self.catalog.set_champion(deu, event)

    def _uri_of(self, info: VersionInfo) -> str:
        if isinstance(self.store, S3Registry):
            return self.store.object_uri(info.deu, info.version)
        return self.store.store.bundle_path(info.deu, info.version).as_uri()

    def fetch_into(self, store: PersonalityStore, deu: str, version: int | None = None) -> Bundle:
        """Make ``deu`` at ``version`` (latest when None) available in a local store, verified."""
        return self.store.fetch_into(store, deu, version)

    def pull(self, deu: str, version: int | None, destination: str | Path) -> Bundle:
        return self.store.pull(deu, version, destination)

    def sync_catalog(self, deu: str) -> list[str]:
        """Register every published version of ``deu`` missing from MLflow; the model versions, oldest first."""
        if self.catalog is None:
            return []
        import tempfile

        out = []
        for info in self.store.versions(deu):
            found = self.catalog.find(deu, info.version)
            if found is not None:
                out.append(found.version)
                continue
            with tempfile.TemporaryDirectory(prefix="amadeus-sync-") as tmp:
                bundle = self.store.pull(deu, info.version, Path(tmp) / "bundle")
                out.append(self.catalog.register(bundle, store_uri=self._uri_of(info)))
        return out


def open_registry(config: RegistryConfig | None = None, *, backoff: Backoff | None = None) -> Registry:
    """The registry the configuration names (default: :meth:`RegistryConfig.from_env`).

    Raises:
        RegistryConfigError for an unknown scheme or an S3 URI without an endpoint.
    """
    config = config or RegistryConfig.from_env()
    scheme = urlparse(config.uri).scheme if config.uri else ""
    if scheme in ("", "file"):
        home = urlparse(config.uri).path if scheme == "file" else config.home
        store: LocalRegistry | S3Registry = LocalRegistry(home)
    elif scheme == "s3":
        if not config.s3_endpoint:
            raise RegistryConfigError(f"registry {config.uri}: set AMADEUS_S3_ENDPOINT (the S3/MinIO API URL)")
        store = S3Registry(
            config.uri,
            endpoint=config.s3_endpoint,
            access_key=config.access_key,
            secret_key=config.secret_key,
            region=config.region,
            backoff=backoff,
        )
    else:
        raise RegistryConfigError(
            f"registry {config.uri!r}: unknown scheme {scheme!r} (use s3://bucket/prefix or file://path)"
        )
    catalog = MlflowCatalog(config.mlflow_tracking_uri, backoff=backoff) if config.mlflow_tracking_uri else None
    return Registry(store, catalog)
