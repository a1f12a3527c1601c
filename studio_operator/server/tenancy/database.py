"""Opening the tenancy database and migrating it to the current schema (alembic).

* SQLite (the default, embedded studio): ``sqlite:///<home>/studio.db``; WAL journal and a
  busy timeout, so the studio and the ``amadeus studio amas|token`` commands share the file.
* PostgreSQL (the hosted studio): ``postgresql://user:pass@host/db`` (psycopg 3). Replicas
  that start together migrate one at a time (a transaction-scoped advisory lock).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

__all__ = ["DATABASE_FILE", "current_revision", "default_url", "head_revision", "migrate", "open_engine"]

DATABASE_FILE = "studio.db"
_MIGRATIONS = Path(__file__).with_name("migrations")
_LOCK_ID = 0x616D6164  # "amad": the advisory lock id of a migration
_IN_PROCESS = threading.Lock()  # alembic's context is process-global: one migration per process at a time


def default_url(home: str | Path) -> str:
    """The embedded studio's database: ``<home>/studio.db``."""
    return f"sqlite:///{Path(home) / DATABASE_FILE}"


def _normalise(url: str) -> str:
    """``postgresql://`` and ``postgres://`` mean psycopg 3 (the driver the studio extra installs)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def open_engine(url: str) -> Engine:
    """An engine for ``url`` (SQLite file or PostgreSQL); the SQLite file's folder is created."""
    url = _normalise(url)
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return sa.create_engine(url, pool_size=8, max_overflow=16, pool_pre_ping=True)


def _config(connection: sa.Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest migration's revision id."""
    head = ScriptDirectory(str(_MIGRATIONS)).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None: never migrated)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the database to ``revision`` (idempotent: a database already there is left as is)."""
    with _IN_PROCESS, engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:id)"), {"id": _LOCK_ID})
        command.upgrade(_config(connection), revision)
