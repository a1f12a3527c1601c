"""Amas and their bearer tokens in the tenancy database.

A token is a random 256-bit string (:func:`~studio_operator.server.tenants.new_token`) shown once;
only its sha256 is stored. Every change (an ama added, disabled or moved to another plan, a token
issued, rotated or revoked) bumps ``tenancy_state.generation`` in the same transaction: each
replica's :class:`~.admission.TenantDirectory` polls that one integer and reloads, so a
revocation takes effect on every replica within its refresh interval, without a restart.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from studio_operator.server.tenancy.plans import UNLIMITED, PlanBook
from studio_operator.server.tenancy.schema import amas, tenancy_state, tokens
from studio_operator.server.tenants import TokenRegistry, TokensFileError, hash_token, new_token, validate_ama

__all__ = ["AccountStore", "AmaRow", "Grant", "TenancyError"]


class TenancyError(ValueError):
    """An ama or token operation that cannot be done (unknown ama, unknown plan, already exists...)."""


@dataclass(frozen=True)
class AmaRow:
    """One ama as ``amadeus studio amas list`` shows it."""

    name: str
    plan: str
    disabled: bool
    created_at: _dt.datetime
    tokens: int  # valid tokens now (not revoked, not expired)


@dataclass(frozen=True)
class Grant:
    """What a valid token grants: its ama, the ama's plan, and until when (None: no expiry)."""

    ama: str
    plan: str
    expires_at: _dt.datetime | None


def _utc(when: _dt.datetime | None) -> _dt.datetime | None:
    if when is None:
        return None
    return when.replace(tzinfo=_dt.UTC) if when.tzinfo is None else when.astimezone(_dt.UTC)


def _now() -> _dt.datetime:
    return _dt.datetime.now(_dt.UTC)


class AccountStore:
    """Amas and tokens (``engine``: a migrated tenancy database; ``plans``: the studio's plans)."""

    def __init__(self, engine: Engine, plans: PlanBook):
        self.engine, self.plans = engine, plans

    @staticmethod
    def _bump(connection: sa.Connection) -> None:
        connection.execute(tenancy_state.update().values(generation=tenancy_state.c.generation + 1))

    def generation(self) -> int:
        """The change counter (a new value: amas or tokens changed)."""
        with self.engine.connect() as connection:
            return int(connection.execute(sa.select(tenancy_state.c.generation)).scalar_one())

    # -- amas ---------------------------------------------------------------
    def add_ama(self, name: str, plan: str | None = None) -> None:
        """Create an ama on ``plan`` (None: the plans file's default)."""
        plan = plan or self.plans.default
        try:
            validate_ama(name)
        except TokensFileError as exc:
            raise TenancyError(str(exc)) from None
        if plan not in self.plans:
            raise TenancyError(
                f"plan {plan!r} is not one of this studio's plans ({', '.join(sorted(self.plans.plans))})"
            )
        with self.engine.begin() as connection:
            if connection.execute(sa.select(amas.c.name).where(amas.c.name == name)).first():
                raise TenancyError(f"ama {name!r} already exists")
            connection.execute(amas.insert().values(name=name, plan=plan, disabled=False, created_at=_now()))
            self._bump(connection)

    def _update_ama(self, name: str, **values: object) -> None:
        with self.engine.begin() as connection:
            if connection.execute(amas.update().where(amas.c.name == name).values(**values)).rowcount == 0:
                raise TenancyError(f"no ama {name!r} (amadeus studio amas list)")
            self._bump(connection)

    def set_disabled(self, name: str, disabled: bool = True) -> None:
        """Disable (or enable again) an ama: its tokens stop (or start) working on every replica."""
        self._update_ama(name, disabled=disabled)

    def set_plan(self, name: str, plan: str) -> None:
        if plan not in self.plans:
            raise TenancyError(
                f"plan {plan!r} is not one of this studio's plans ({', '.join(sorted(self.plans.plans))})"
            )
        self._update_ama(name, plan=plan)

    def list_amas(self, *, now: _dt.datetime | None = None) -> list[AmaRow]:
        now = now or _now()
        valid = sa.and_(tokens.c.revoked_at.is_(None), sa.or_(tokens.c.expires_at.is_(None), tokens.c.expires_at > now))
        count = sa.func.count(tokens.c.id).filter(valid)
        query = (
            sa.select(amas.c.name, amas.c.plan, amas.c.disabled, amas.c.created_at, count)
            .select_from(amas.outerjoin(tokens, tokens.c.ama == amas.c.name))
            .group_by(amas.c.name, amas.c.plan, amas.c.disabled, amas.c.created_at)
            .order_by(amas.c.name)
        )
        with self.engine.connect() as connection:
            return [AmaRow(r[0], r[1], bool(r[2]), _utc(r[3]) or now, int(r[4])) for r in connection.execute(query)]

    def count_amas(self) -> int:
        with self.engine.connect() as connection:
            return int(connection.execute(sa.select(sa.func.count()).select_from(amas)).scalar_one())

    # -- tokens -------------------------------------------------------------
    def _require_ama(self, connection: sa.Connection, ama: str) -> None:
        if not connection.execute(sa.select(amas.c.name).where(amas.c.name == ama)).first():
            raise TenancyError(f"no ama {ama!r} (amadeus studio amas add {ama})")

    def issue_token(self, ama: str, *, expires_at: _dt.datetime | None = None) -> str:
        """A new token for ``ama`` (its other tokens stay valid); returns the token, shown once."""
        token = new_token()
        with self.engine.begin() as connection:
            self._require_ama(connection, ama)
            connection.execute(
                tokens.insert().values(
                    ama=ama, sha256=hash_token(token), created_at=_now(), expires_at=_utc(expires_at)
                )
            )
            self._bump(connection)
        return token

    def rotate_token(self, ama: str, *, expires_at: _dt.datetime | None = None) -> str:
        """Revoke every token of ``ama`` and issue a new one, in one transaction."""
        token = new_token()
        now = _now()
        with self.engine.begin() as connection:
            self._require_ama(connection, ama)
            connection.execute(
                tokens.update().where(tokens.c.ama == ama, tokens.c.revoked_at.is_(None)).values(revoked_at=now)
            )
            connection.execute(
                tokens.insert().values(ama=ama, sha256=hash_token(token), created_at=now, expires_at=_utc(expires_at))
            )
            self._bump(connection)
        return token

    def revoke(self, ama: str, token: str | None = None) -> int:
        """Revoke one token of ``ama`` (or all of them); returns how many were revoked."""
        query = tokens.update().where(tokens.c.ama == ama, tokens.c.revoked_at.is_(None))
        if token is not None:
            query = query.where(tokens.c.sha256 == hash_token(token))
        with self.engine.begin() as connection:
            self._require_ama(connection, ama)
            revoked = connection.execute(query.values(revoked_at=_now())).rowcount
            self._bump(connection)
        return int(revoked)

    def import_tokens_file(self, path: str | Path, plan: str | None = None) -> int:
        """Copy a tokens.yaml (hashes, expiry) into the database; amas it names are created on ``plan``
        (None: ``unlimited``, what a tokens-file studio gave them: only the studio-wide limits).

        Idempotent: a hash already in the database is skipped. Returns the number of tokens added.
        """
        registry = TokenRegistry.from_file(path)
        plan = plan or UNLIMITED
        if plan not in self.plans:
            raise TenancyError(
                f"plan {plan!r} is not one of this studio's plans ({', '.join(sorted(self.plans.plans))})"
            )
        added = 0
        with self.engine.begin() as connection:
            known = set(connection.execute(sa.select(amas.c.name)).scalars())
            hashes = set(connection.execute(sa.select(tokens.c.sha256)).scalars())
            for entry in registry.entries:
                if entry.ama not in known:
                    connection.execute(
                        amas.insert().values(name=entry.ama, plan=plan, disabled=False, created_at=_now())
                    )
                    known.add(entry.ama)
                if entry.sha256 not in hashes:
                    connection.execute(
                        tokens.insert().values(
                            ama=entry.ama, sha256=entry.sha256, created_at=_now(), expires_at=_utc(entry.expires)
                        )
                    )
                    hashes.add(entry.sha256)
                    added += 1
            self._bump(connection)
        return added

    def grants(self) -> tuple[int, dict[str, Grant]]:
        """(generation, sha256 → grant) of every token not revoked whose ama is enabled, in one read.

        Expired tokens are included (the caller checks ``expires_at`` against the call's time).
        """
        query = (
            sa.select(tokens.c.sha256, tokens.c.ama, amas.c.plan, tokens.c.expires_at)
            .select_from(tokens.join(amas, tokens.c.ama == amas.c.name))
            .where(tokens.c.revoked_at.is_(None), amas.c.disabled.is_(False))
        )
        with self.engine.connect() as connection:
            generation = int(connection.execute(sa.select(tenancy_state.c.generation)).scalar_one())
            rows = {r[0]: Grant(r[1], r[2], _utc(r[3])) for r in connection.execute(query)}
        return generation, rows

    def lookup(self, sha256: str) -> Grant | None:
        """The grant of one token hash, read now (None: unknown, revoked or its ama disabled)."""
        query = (
            sa.select(tokens.c.ama, amas.c.plan, tokens.c.expires_at)
            .select_from(tokens.join(amas, tokens.c.ama == amas.c.name))
            .where(tokens.c.sha256 == sha256, tokens.c.revoked_at.is_(None), amas.c.disabled.is_(False))
        )
        with self.engine.connect() as connection:
            row = connection.execute(query).first()
        return None if row is None else Grant(row[0], row[1], _utc(row[2]))

    def plan_of(self, ama: str) -> str:
        with self.engine.connect() as connection:
            plan = connection.execute(sa.select(amas.c.plan).where(amas.c.name == ama)).scalar()
        return str(plan) if plan else self.plans.default
