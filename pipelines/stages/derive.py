"""Tuning without training (``derive``): the parent's model with a new playerProfile, as the next version.

Also the one place where a playerProfile change is merged over a version's playerProfile
(:func:`player_profile_over`): the push stage (a re-practised version keeps its parent's
playerProfile unless changed), this stage and the feedback stage's caller use it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from instrument_agent.personality import Bundle
from instrument_agent.personality.store import PersonalityStore
from instrument_agent.proto import personality_pb2

__all__ = ["derive", "player_profile_over"]


def player_profile_over(
    parent: personality_pb2.PlayerProfile | None,
    change: Mapping[str, Any] | None,
    *,
    source: str = "player_profile_json",
) -> personality_pb2.PlayerProfile | None:
    """``change`` (playerProfile field → value, nested messages as dicts) over ``parent``'s playerProfile.

    Args:
        parent: the parent version's playerProfile (None or unconfigured: the defaults).
        change: the fields to change; None or empty: no change.
        source: named in a :class:`~instrument_agent.profiles.ProfileError` on an unknown field.

    Returns:
        The new, configured and validated playerProfile, or None when ``change`` is empty
        (the caller keeps the parent's).
    """
    from instrument_agent.profiles import merge_profile, resolve_player_profile

    change = {k: v for k, v in (change or {}).items() if v is not None}
    if not change:
        return None
    merged = merge_profile(resolve_player_profile(parent), dict(change, configured=True), source=source)
    return resolve_player_profile(merged)


def derive(
    store: PersonalityStore,
    parent: Bundle,
    change: Mapping[str, Any] | None,
    *,
    practice_id: str = "",
    runner: str = "embedded",
    started: str | None = None,
    params: Mapping[str, str] | None = None,
) -> Bundle:
    """Commit ``parent`` (a version in ``store``) with ``change`` over its playerProfile as the next version.

    The model files are the parent's (hard links, :meth:`PersonalityStore.derive`); the practice
    record (kind TUNING) keeps the parent's data digests and parameters, adds ``player_change``
    (JSON) and ``params``.

    Args:
        store: the local store holding ``parent``; the new version is committed there.
        parent: the version to tune.
        change: playerProfile fields to change (None: the parent's profile, configured).
        practice_id, runner: the practice record's (runner: ``embedded``, ``job``, ``kfp``).
        started: RFC 3339 start time (default: now).
        params: more practice record parameters.

    Returns:
        The new version's bundle in ``store``.
    """
    from instrument_agent.profiles import resolve_player_profile

    player = player_profile_over(parent.manifest.player_profile, change) or resolve_player_profile(
        parent.manifest.player_profile
    )
    record = personality_pb2.PracticeRecord(
        kind=personality_pb2.PracticeRecord.TUNING, practice_id=practice_id, runner=runner
    )
    if started:
        record.started.FromJsonString(started)
    else:
        record.started.GetCurrentTime()
    record.finished.GetCurrentTime()
    record.data_digests.extend(parent.manifest.practice.data_digests)
    record.params.update(dict(parent.manifest.practice.params))
    record.params["player_change"] = json.dumps(dict(change or {}), sort_keys=True)
    record.params.update({k: str(v) for k, v in (params or {}).items()})
    return store.derive(parent, player_profile=player, practice=record)
