"""Where the operator checks deus and versions, and finds the version a practice produced."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

__all__ = [
    "Catalog",
    "CatalogUnavailableError",
    "PublishedVersion",
    "StoreCatalog",
    "UnknownBaseError",
    "check_versions",
]


class UnknownBaseError(LookupError):
    """The deu or the base version a Practice starts from does not exist.

    ``reason`` is ``UnknownDeu`` or ``UnknownVersion`` (the condition reason).
    """

    def __init__(self, reason: str, message: str):
        self.reason = reason
        super().__init__(message)


class CatalogUnavailableError(RuntimeError):
    """The registry did not answer (after its own retries): retry later, the practice is not failed."""


@dataclass(frozen=True)
class PublishedVersion:
    deu: str
    version: int
    metrics: dict[str, float] = field(default_factory=dict)


class Catalog(Protocol):
    """The personality registry as the operator needs it (blocking calls).

    ``ama`` is the tenant whose registry is meant (the Practice's ``amadeus.dev/ama``
    label; ``""`` for none). Both methods may raise :class:`CatalogUnavailableError`.
    """

    def check_base(self, deu: str, practice_type: str, base_version: int | None, *, ama: str = "") -> None:
        """Raise :class:`UnknownBaseError` when the practice has nothing to start from."""

    def published_by(self, deu: str, practice_id: str, *, ama: str = "") -> PublishedVersion | None:
        """The version whose manifest records ``practice_id``, or None."""


def check_versions(
    deu: str, practice_type: str, base_version: int | None, versions: list[int], *, where: str = ""
) -> None:
    """Raise :class:`UnknownBaseError` unless ``versions`` (the deu's published ones) give the practice a start."""
    suffix = f" in {where}" if where else ""
    if not versions:
        if practice_type == "imitation" and base_version is None:
            return  # a new deu: its first practice
        raise UnknownBaseError(
            "UnknownDeu",
            f"deu {deu!r} has no personality yet{suffix}; a {practice_type} practice"
            + (f" from version {base_version}" if base_version else "")
            + " needs one (start with an imitation practice)",
        )
    if base_version is not None and base_version not in versions:
        raise UnknownBaseError(
            "UnknownVersion",
            f"deu {deu!r} has no version {base_version}{suffix} (versions: {', '.join(map(str, versions))})",
        )


class StoreCatalog:
    """A :class:`Catalog` over ``instrument_agent.personality.store.PersonalityStore`` (a local or mounted home).

    A local store has no tenants: ``ama`` is accepted and ignored (a studio with amas
    runs the operator with an ``s3://`` registry, :class:`~.registry_catalog.RegistryCatalog`).
    """

    def __init__(self, home: str | None = None):
        from instrument_agent.personality.store import PersonalityStore

        self.store = PersonalityStore(home)

    def check_base(self, deu: str, practice_type: str, base_version: int | None, *, ama: str = "") -> None:
        check_versions(deu, practice_type, base_version, [row.version for row in self.store.versions(deu)])

    def published_by(self, deu: str, practice_id: str, *, ama: str = "") -> PublishedVersion | None:
        for row in reversed(self.store.versions(deu)):
            bundle = self.store.get(deu, row.version, verify=False)
            if bundle.manifest.practice.practice_id == practice_id:
                return PublishedVersion(deu, row.version, {k: float(v) for k, v in bundle.manifest.metrics.items()})
        return None
