"""The publisher: which registry a practice publishes to, and the store it works in."""

from __future__ import annotations

from pathlib import Path

import pytest

from instrument_agent.personality import UnknownDeuError
from instrument_agent.personality.store import PersonalityStore
from pipelines.practice import Publisher


def test_the_job_s_variables_win_over_the_generic_ones(tmp_path):
    env = {
        "AMADEUS_HOME": str(tmp_path / "home"),
        "AMADEUS_REGISTRY": (tmp_path / "generic").as_uri(),
        "AMADEUS_REGISTRY_URI": (tmp_path / "job").as_uri(),
    }
    assert Publisher.from_env(env=env).location == PersonalityStore(tmp_path / "job").root.as_uri()
    given = Publisher.from_env((tmp_path / "param").as_uri(), env=env)
    assert given.location == PersonalityStore(tmp_path / "param").root.as_uri()
    default = Publisher.from_env(env={"AMADEUS_HOME": str(tmp_path / "home")})
    assert default.location == PersonalityStore(tmp_path / "home").root.as_uri() and default.direct


def test_a_local_store_is_worked_in_directly(make_bundle, tmp_path):
    home = tmp_path / "home"
    parent = make_bundle("lute", home=home)
    with Publisher.local(home).session() as session:
        assert session.home == home and session.cache_dir == home / "cache" / "features"
        assert session.parent("lute") == parent.version
        bundle = session.store.derive(session.store.get("lute", 1), player_profile=parent.manifest.player_profile)
        assert session.publish(bundle).version == 2  # already in the store: published as it is
        assert session.parent("nobody") == 0
        with pytest.raises(UnknownDeuError, match="'nobody': it has no version in file://"):
            session.parent("nobody", required=True)


def test_a_catalogued_registry_is_worked_in_a_scratch_store(make_bundle, tmp_path, monkeypatch):
    """With an MLflow catalog the practice works in a scratch home; the parent is fetched under its number."""
    from pipelines.registry import LocalRegistry, MlflowCatalog, Registry

    monkeypatch.setenv("AMADEUS_HOME", str(tmp_path / "amadeus"))
    home = tmp_path / "registry"
    make_bundle("lute", home=home)
    publisher = Publisher(Registry(LocalRegistry(home), MlflowCatalog("http://127.0.0.1:1")))
    assert not publisher.direct
    with publisher.session() as session:
        scratch = session.home
        assert scratch != home and session.cache_dir == Path(tmp_path / "amadeus") / "cache" / "features"
        assert (
            session.parent("lute") == 1
            and session.store.get("lute", 1).digest == LocalRegistry(home).info("lute").digest
        )
    assert not scratch.exists()  # the scratch store is gone
