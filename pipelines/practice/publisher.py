"""Where a practice's new version goes: the one decision, for every runner.

The CLI (``amadeus practice ...``, also what the operator's Kubernetes Job runs), the KFP
steps and the studio's embedded runner all publish through a :class:`Publisher`:

* :meth:`Publisher.local` — the local store of an Amadeus home (the studio's tenant home,
  ``$AMADEUS_HOME``);
* :meth:`Publisher.from_env` — the registry the environment (or a pipeline parameter) names:
  ``AMADEUS_REGISTRY_URI`` / ``AMADEUS_MLFLOW_TRACKING_URI`` (the names the operator's Job and
  the helm chart set) win over ``AMADEUS_REGISTRY`` / ``MLFLOW_TRACKING_URI``; none set: the
  local store under ``$AMADEUS_HOME`` (:func:`pipelines.registry.open_registry`).

A practice works in a local store (:class:`Session`). With the local store and no MLflow
catalog that is the store itself: the stages commit there directly (so an interrupted
practice resumes in its home). Otherwise it is a scratch store: :meth:`Session.parent` and
:meth:`Session.fetch` bring the parent version in under its registry number, and
:meth:`Session.publish` publishes the new version from it (the registry allocates the
number; S3 first, then MLflow).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from instrument_agent.personality import Bundle, UnknownDeuError
from instrument_agent.personality.store import PersonalityStore, VersionInfo
from pipelines.registry import LocalRegistry, Registry, RegistryConfig, open_registry

__all__ = ["Publisher", "Session"]


class Session:
    """One practice's local store, and the way its new version reaches the registry.

    Attributes:
        home: the Amadeus home of the working store (the store's own home, or a scratch one).
        store: the working store.
        cache_dir: the feature cache (under the local home; under ``$AMADEUS_HOME`` with a remote registry).
    """

    def __init__(self, registry: Registry, home: Path, cache_dir: Path):
        self.registry = registry
        self.home = Path(home)
        self.store = PersonalityStore(self.home)
        self.cache_dir = Path(cache_dir)

    @property
    def location(self) -> str:
        """The registry's location (a ``file://`` store root or an ``s3://`` prefix)."""
        return self.registry.location

    def parent(self, deu: str, base_version: int = 0, *, required: bool = False) -> int:
        """The version to practise from (``base_version``, 0: the latest), fetched into :attr:`store`.

        Returns 0 when the deu has no version and ``required`` is false.

        Raises:
            UnknownDeuError (``required``), UnknownVersionError (no such ``base_version``).
        """
        try:
            version = int(base_version or 0) or self.registry.latest_version(deu)
        except UnknownDeuError:
            if required:
                raise UnknownDeuError(f"deu {deu!r}: it has no version in {self.location}") from None
            return 0
        self.fetch(deu, version)
        return version

    def fetch(self, deu: str, version: int) -> Bundle:
        """``deu`` v``version`` in :attr:`store` (copied there under the same number; verified)."""
        return self.registry.fetch_into(self.store, deu, int(version))

    def publish(self, bundle: Bundle) -> VersionInfo:
        """Publish ``bundle`` (a version in :attr:`store`); returns its number and digest in the registry."""
        return self.registry.publish(bundle)


class Publisher:
    """Decides where a practice's new version goes (see the module docstring).

    Args:
        registry: the registry new versions are published to.
    """

    def __init__(self, registry: Registry):
        self.registry = registry

    def __repr__(self) -> str:
        return f"Publisher({self.registry!r})"

    @classmethod
    def local(cls, home: str | Path) -> Publisher:
        """Publish to the local store of ``home``."""
        return cls(Registry(LocalRegistry(home)))

    @classmethod
    def from_env(
        cls, registry_uri: str = "", mlflow_tracking_uri: str = "", *, env: Mapping[str, str] | None = None
    ) -> Publisher:
        """The registry ``registry_uri`` / ``mlflow_tracking_uri`` name, else the environment's.

        Raises:
            RegistryConfigError for an unknown scheme or an S3 URI without an endpoint.
        """
        env = os.environ if env is None else env
        config = RegistryConfig.from_env(
            env,
            uri=registry_uri or env.get("AMADEUS_REGISTRY_URI", ""),
            mlflow_tracking_uri=mlflow_tracking_uri or env.get("AMADEUS_MLFLOW_TRACKING_URI", ""),
        )
        return cls(open_registry(config))

    @property
    def location(self) -> str:
        return self.registry.location

    @property
    def direct(self) -> bool:
        """True when practices commit straight into the registry's own local store."""
        return isinstance(self.registry.store, LocalRegistry) and self.registry.catalog is None

    @contextmanager
    def session(self) -> Iterator[Session]:
        """The working store of one practice (a scratch one is removed afterwards)."""
        from instrument_agent.personality.home import amadeus_home

        if self.direct:
            home = Path(self.registry.store.store.home)
            yield Session(self.registry, home, home / "cache" / "features")
            return
        with tempfile.TemporaryDirectory(prefix="amadeus-practice-") as tmp:
            yield Session(self.registry, Path(tmp) / "home", amadeus_home() / "cache" / "features")
