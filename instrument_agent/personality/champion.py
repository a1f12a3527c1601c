"""A deu's *champion*: the version the agent and the studio play when no version is named.

The champion is kept as an append-only history of events, ``promote`` (version N becomes the
champion) and ``rollback`` (back to the champion before the current one). The current
champion is found by replaying the history as a stack: a promote pushes, a rollback pops.
So ``promote 1, promote 3, promote 5, rollback, rollback`` leaves v1 the champion, and the
history says who chose what and when.

The same history format is kept in three places, each written atomically or conditionally:

* the local store: ``personalities/<deu>/champion.json`` (temp + rename, under the deu lock),
  see :meth:`PersonalityStore.promote <instrument_agent.personality.store.PersonalityStore.promote>`;
* the S3 registry: one object per event, ``<deu>/champion/e000001.json``, created with
  ``If-None-Match: *`` like the commit markers (``pipelines.registry.s3``);
* MLflow: the ``champion`` alias, with the event recorded in tags (``pipelines.registry.mlflow_catalog``).

Default version selection everywhere (``amadeus play``, the agent, the studio): the champion
when one is set and still in the store with the recorded digest, else the latest version.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from .errors import PersonalityError

__all__ = [
    "ChampionEvent",
    "NoChampionError",
    "champion_of",
    "champion_stack",
    "now_rfc3339",
]


class NoChampionError(PersonalityError, LookupError):
    """A rollback was asked for but there is no earlier champion to go back to."""


def now_rfc3339() -> str:
    """The current UTC time as RFC 3339 with a ``Z`` (the format the store's ``created`` uses)."""
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class ChampionEvent:
    """One line of a deu's champion history.

    Attributes:
        action: ``"promote"`` or ``"rollback"``.
        version: the version that is champion after this event.
        digest: that version's manifest sha256 (hex).
        at: when (RFC 3339, UTC).
        by: who or what chose it (``"cli"``, ``"sync from studio home"``, ``"registry"`` …).
    """

    action: str
    version: int
    digest: str
    at: str
    by: str = ""

    def to_dict(self) -> dict:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, row: dict) -> ChampionEvent:
        action = str(row["action"])
        if action not in ("promote", "rollback"):
            raise ValueError(f"unknown champion action {action!r}")
        return cls(action, int(row["version"]), str(row["digest"]), str(row.get("at", "")), str(row.get("by", "")))


def champion_stack(events: Iterable[ChampionEvent]) -> list[ChampionEvent]:
    """The promotes still in force, oldest first: the last is the champion, the one before it is
    where a rollback goes."""
    stack: list[ChampionEvent] = []
    for event in events:
        if event.action == "promote":
            stack.append(event)
        else:
            if stack:
                stack.pop()
            while stack and stack[-1].version != event.version:
                stack.pop()
            if not stack:  # a rollback to a version pushed before the history we hold
                stack.append(event)
    return stack


def champion_of(events: Iterable[ChampionEvent]) -> ChampionEvent | None:
    """The current champion event, or None when no version was ever promoted."""
    stack = champion_stack(events)
    return stack[-1] if stack else None
