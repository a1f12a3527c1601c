"""A deu's champion in the S3 registry: an append-only log of champion events.

Layout (next to the versions, see :mod:`.s3`)::

    <prefix>/<deu>/champion/e000001.json     {"action", "version", "digest", "at", "by"}
    <prefix>/<deu>/champion/e000002.json     ...

An event is created with ``If-None-Match: *`` like the claims and commit markers, so two
writers never both append event N: the loser gets 412, re-reads the log and decides again
(a rollback is computed against the history it will follow). Replaying the log as a stack
(:func:`instrument_agent.personality.champion_stack`) gives the champion and the history.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING

from instrument_agent.personality import ChampionEvent, NoChampionError, UnknownDeuError, champion_of, champion_stack
from instrument_agent.personality.champion import now_rfc3339

from .errors import RegistryConflictError

if TYPE_CHECKING:
    from .s3 import S3Registry

__all__ = ["champion_history", "default_version", "promote", "rollback"]

_ATTEMPTS = 8


def _prefix(registry: S3Registry, deu: str) -> str:
    return registry._key(deu, "champion") + "/"


def _events(registry: S3Registry, deu: str) -> list[tuple[int, str]]:
    prefix = _prefix(registry, deu)
    out = []
    for key in registry._list(prefix):
        name = key[len(prefix) :]
        if name.startswith("e") and name.endswith(".json") and name[1:-5].isdigit():
            out.append((int(name[1:-5]), key))
    return sorted(out)


def champion_history(registry: S3Registry, deu: str) -> list[ChampionEvent]:
    """Every promote and rollback of ``deu`` in the bucket, oldest first."""
    return [ChampionEvent.from_dict(json.loads(registry._get(key))) for _, key in _events(registry, deu)]


def _append(
    registry: S3Registry, deu: str, decide: Callable[[list[ChampionEvent]], ChampionEvent | None]
) -> ChampionEvent:
    for _ in range(_ATTEMPTS):
        numbered = _events(registry, deu)
        history = [ChampionEvent.from_dict(json.loads(registry._get(key))) for _, key in numbered]
        event = decide(history)
        if event is None:  # nothing to change
            current = champion_of(history)
            assert current is not None
            return current
        number = (numbered[-1][0] if numbered else 0) + 1
        key = registry._key(deu, "champion", f"e{number:06d}.json")
        if registry._put_if_absent(key, json.dumps(event.to_dict(), indent=2).encode()):
            return event
    raise RegistryConflictError(f"deu {deu!r}: the champion kept changing under {_ATTEMPTS} attempts; try again")


def promote(registry: S3Registry, deu: str, version: int, *, by: str = "registry") -> ChampionEvent:
    """Make ``version`` the champion (a no-op when it is). Raises UnknownDeuError / UnknownVersionError."""
    info = registry.info(deu, version)

    def decide(history: list[ChampionEvent]) -> ChampionEvent | None:
        current = champion_of(history)
        if current is not None and (current.version, current.digest) == (info.version, info.digest):
            return None
        return ChampionEvent("promote", info.version, info.digest, now_rfc3339(), by)

    return _append(registry, deu, decide)


def rollback(registry: S3Registry, deu: str, *, by: str = "registry") -> ChampionEvent:
    """Back to the champion before the current one. Raises :class:`NoChampionError` when there is none."""
    registry.latest_version(deu)  # UnknownDeuError

    def decide(history: list[ChampionEvent]) -> ChampionEvent:
        stack = champion_stack(history)
        if len(stack) < 2:
            now = f"v{stack[-1].version}" if stack else "none"
            raise NoChampionError(
                f"deu {deu!r} has no earlier champion to roll back to in {registry.location} (champion: {now})"
            )
        return ChampionEvent("rollback", stack[-2].version, stack[-2].digest, now_rfc3339(), by)

    return _append(registry, deu, decide)


def default_version(registry: S3Registry, deu: str) -> int:
    """The champion when set (and published with that digest), else the latest."""
    rows = {row.version: row.digest for row in registry.versions(deu)}
    if not rows:
        raise UnknownDeuError(f"no personality of deu {deu!r} in {registry.location} ({registry.endpoint})")
    champion = champion_of(champion_history(registry, deu))
    if champion is not None and rows.get(champion.version) == champion.digest:
        return champion.version
    return max(rows)
