"""Amas and tokens in the database: hashed, expiring, rotated and revoked at once; tokens.yaml imports."""

from __future__ import annotations

import datetime as dt

import pytest
from _studio_support import TOKENS, write_tokens

from studio_operator.server.errors import UnauthenticatedError
from studio_operator.server.tenancy import AccountStore, PlanBook, TenancyError, TenantDirectory, migrate, open_engine
from studio_operator.server.tenants import hash_token


@pytest.fixture
def accounts(database_url):
    engine = open_engine(database_url)
    migrate(engine)
    yield AccountStore(engine, PlanBook.load())
    engine.dispose()


def _auth(directory, token):
    return directory.authenticate([("authorization", f"Bearer {token}")])


def test_tokens_are_stored_hashed_and_rotation_revokes_the_old_ones_at_once(accounts):
    accounts.add_ama("alice")
    accounts.add_ama("bob", plan="studio")
    first = accounts.issue_token("alice")
    second = accounts.issue_token("alice", expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=1))
    generation, grants = accounts.grants()
    assert set(grants) == {hash_token(first), hash_token(second)} and first not in grants
    assert grants[hash_token(first)].plan == "free" and grants[hash_token(second)].expires_at is not None
    directory = TenantDirectory(accounts)
    assert _auth(directory, first).ama == "alice" and directory.generation == generation

    rotated = accounts.rotate_token("alice")
    assert directory.refresh() is True
    for old in (first, second):
        with pytest.raises(UnauthenticatedError, match="^unknown token$"):
            _auth(directory, old)
    assert _auth(directory, rotated).ama == "alice"
    assert directory.refresh() is False  # nothing changed since


def test_unknown_revoked_and_disabled_are_indistinguishable_and_expiry_is_checked_per_call(accounts):
    accounts.add_ama("alice")
    accounts.add_ama("carol")
    revoked, kept = accounts.issue_token("alice"), accounts.issue_token("alice")
    assert accounts.revoke("alice", revoked) == 1
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=60)
    expiring = accounts.issue_token("carol", expires_at=soon)
    directory = TenantDirectory(accounts)
    messages = set()
    for token in ("never-issued-token", revoked):
        with pytest.raises(UnauthenticatedError) as err:
            _auth(directory, token)
        messages.add(str(err.value))
    assert _auth(directory, expiring).ama == "carol"
    with pytest.raises(UnauthenticatedError, match="expired"):
        directory.authenticate([("authorization", f"Bearer {expiring}")], now=soon + dt.timedelta(seconds=1))
    accounts.set_disabled("carol")
    directory.refresh()
    with pytest.raises(UnauthenticatedError) as err:
        _auth(directory, expiring)
    messages.add(str(err.value))
    assert messages == {"unknown token"}
    assert _auth(directory, kept).ama == "alice"
    rows = {row.name: row for row in accounts.list_amas()}
    assert rows["alice"].tokens == 1 and rows["carol"].disabled and rows["carol"].tokens == 1


def test_plans_and_names_are_checked(accounts):
    with pytest.raises(TenancyError, match="plan 'gold'"):
        accounts.add_ama("alice", plan="gold")
    with pytest.raises(TenancyError, match="invalid ama name"):
        accounts.add_ama("Alice!")
    accounts.add_ama("alice")
    with pytest.raises(TenancyError, match="already exists"):
        accounts.add_ama("alice")
    with pytest.raises(TenancyError, match="no ama 'bob'"):
        accounts.issue_token("bob")
    accounts.set_plan("alice", "studio")
    assert accounts.plan_of("alice") == "studio"


def test_a_tokens_file_imports_once_with_its_expiry(accounts, tmp_path):
    path = write_tokens(tmp_path / "tokens.yaml")
    assert accounts.import_tokens_file(path) == 3
    assert accounts.import_tokens_file(path) == 0  # idempotent
    directory = TenantDirectory(accounts)
    assert _auth(directory, TOKENS["alice"]).ama == "alice" and _auth(directory, TOKENS["alice"]).plan == "unlimited"
    assert _auth(directory, TOKENS["bob"]).ama == "bob"
    with pytest.raises(UnauthenticatedError, match="expired"):
        _auth(directory, TOKENS["carol"])
