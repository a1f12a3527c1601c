"""The champion: promote, roll back through the history, default version selection, atomic history file."""

from __future__ import annotations

import json

import pytest
from _perform_support import make_personality

from instrument_agent.personality import NoChampionError, UnknownVersionError
from instrument_agent.personality.store import PersonalityStore


@pytest.fixture
def store(tmp_path):
    for seed in range(4):
        make_personality(tmp_path, seed=seed)  # cello v1..v4, different decoders
    return PersonalityStore(tmp_path / "home")


def test_default_is_latest_until_a_champion_is_promoted(store):
    assert store.champion("cello") is None and store.default_version("cello") == 4
    event = store.promote("cello", 2)
    assert (event.action, event.version, event.digest) == ("promote", 2, store.info("cello", 2).digest)
    assert store.default_version("cello") == 2 and store.resolve("cello", None) == 2
    assert store.resolve("cello", 3) == 3  # a named version wins
    assert store.latest_version("cello") == 4  # latest is still latest


def test_rollback_restores_the_previous_champion_step_by_step(store):
    for version in (1, 3, 2):
        store.promote("cello", version)
    assert store.rollback("cello").version == 3
    assert store.default_version("cello") == 3
    assert store.rollback("cello").version == 1
    with pytest.raises(NoChampionError, match="no earlier champion.*champion: v1"):
        store.rollback("cello")
    assert store.default_version("cello") == 1  # the failed rollback changed nothing
    history = store.champion_history("cello")
    assert [(e.action, e.version) for e in history] == [
        ("promote", 1),
        ("promote", 3),
        ("promote", 2),
        ("rollback", 3),
        ("rollback", 1),
    ]
    store.promote("cello", 4)
    assert store.rollback("cello").version == 1  # after a promote, rollback goes to the one before it


def test_promote_twice_and_unknown_versions(store):
    first = store.promote("cello", 2)
    assert store.promote("cello", 2) == first and len(store.champion_history("cello")) == 1
    with pytest.raises(UnknownVersionError, match="no version 9"):
        store.promote("cello", 9)
    assert store.default_version("cello") == 2


def test_history_file_is_written_atomically_and_read_back(store):
    store.promote("cello", 3)
    path = store.root / "cello" / "champion.json"
    data = json.loads(path.read_text())
    assert data["deu"] == "cello" and data["events"][0]["version"] == 3
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(".champion")] == []  # no temp left
    assert PersonalityStore(store.home).default_version("cello") == 3


def test_a_champion_whose_digest_no_longer_matches_falls_back_to_latest(store):
    store.promote("cello", 2)
    path = store.root / "cello" / "champion.json"
    data = json.loads(path.read_text())
    data["events"][0]["digest"] = "0" * 64  # recorded for other content (e.g. a store rebuilt elsewhere)
    path.write_text(json.dumps(data))
    assert store.default_version("cello") == 4
