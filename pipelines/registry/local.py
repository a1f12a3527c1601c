"""The embedded default: the local filesystem store behind the registry interface."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

from instrument_agent.personality import Bundle, ChampionEvent, read_bundle
from instrument_agent.personality.store import PersonalityStore, VersionInfo

__all__ = ["LocalRegistry"]


class LocalRegistry:
    """:class:`PersonalityStore` (``$AMADEUS_HOME/personalities``) with the registry's methods.

    Args:
        home: the Amadeus home; default ``$AMADEUS_HOME``.
    """

    def __init__(self, home: str | Path | None = None):
        self.store = PersonalityStore(home)

    def __repr__(self) -> str:
        return f"LocalRegistry({str(self.store.home)!r})"

    @property
    def location(self) -> str:
        return self.store.root.as_uri()

    def deus(self) -> list[str]:
        return self.store.deus()

    def versions(self, deu: str) -> list[VersionInfo]:
        return self.store.versions(deu)

    def latest_version(self, deu: str) -> int:
        return self.store.latest_version(deu)

    def info(self, deu: str, version: int | None = None) -> VersionInfo:
        return self.store.info(deu, version)

    def champion_history(self, deu: str) -> list[ChampionEvent]:
        return self.store.champion_history(deu)

    def champion(self, deu: str) -> ChampionEvent | None:
        return self.store.champion(deu)

    def promote(self, deu: str, version: int, *, by: str = "registry") -> ChampionEvent:
        return self.store.promote(deu, version, by=by)

    def rollback(self, deu: str, *, by: str = "registry") -> ChampionEvent:
        return self.store.rollback(deu, by=by)

    def default_version(self, deu: str) -> int:
        return self.store.default_version(deu)

    def publish(
        self,
        bundle: Bundle,
        *,
        version: int | None = None,
        then: Callable[[Bundle, VersionInfo], None] | None = None,
    ) -> VersionInfo:
        """Publish ``bundle`` as the next version (a bundle already in this store is returned as is)."""
        inside = self.store.bundle_path(bundle.deu, bundle.version)
        if bundle.path.resolve() == inside.resolve():
            published = bundle
        else:
            bundle.verify()
            files = {entry.path: bundle.path / entry.path for entry in bundle.manifest.files}
            published = self.store.commit(bundle.deu, bundle.manifest, files, version=version)
        info = self.store.info(published.deu, published.version)
        if then is not None:
            then(published, info)
        return info

    def pull(self, deu: str, version: int | None, destination: str | Path) -> Bundle:
        """Copy one version (verified) to ``destination`` (must not exist)."""
        source = self.store.get(deu, version)
        destination = Path(destination)
        staging = destination.parent / f".pull-{destination.name}-{uuid.uuid4().hex[:8]}"
        try:
            shutil.copytree(source.path, staging)
            staging.rename(destination)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return read_bundle(destination, expected_digest=source.digest)

    def fetch_into(self, store: PersonalityStore, deu: str, version: int | None = None) -> Bundle:
        """The version in ``store`` (copied there under the same number when ``store`` is another home)."""
        source = self.store.get(deu, version)
        if store.root.resolve() == self.store.root.resolve():
            return source
        try:
            existing = store.get(deu, source.version)
            if existing.digest == source.digest:
                return existing
        except LookupError:
            pass
        files = {entry.path: source.path / entry.path for entry in source.manifest.files}
        return store.commit(deu, source.manifest, files, version=source.version)
