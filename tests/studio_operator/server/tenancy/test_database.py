"""The tenancy database migrates to the current schema, on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import os
import subprocess
import sys

import sqlalchemy as sa

from studio_operator.server.tenancy import current_revision, head_revision, migrate, open_engine

_MIGRATE = (
    "import sys; from studio_operator.server.tenancy import migrate, open_engine; migrate(open_engine(sys.argv[1]))"
)


def test_two_replicas_starting_at_once_migrate_one_schema(database_url):
    engine = open_engine(database_url)
    assert current_revision(engine) is None
    replicas = [
        subprocess.Popen(
            [sys.executable, "-c", _MIGRATE, database_url], stderr=subprocess.PIPE, text=True, env=os.environ
        )
        for _ in range(2)
    ]
    outcomes = [(replica.wait(60), replica.stderr.read()) for replica in replicas]
    if database_url.startswith("sqlite"):  # no advisory lock: a replica that lost the race is restarted
        outcomes = [(code, err) for code, err in outcomes if "already exists" not in err]
    assert all(code == 0 for code, _ in outcomes), outcomes
    migrate(engine)  # once more: nothing to do
    assert current_revision(engine) == head_revision() == "0001"
    tables = set(sa.inspect(engine).get_table_names())
    assert {"amas", "tokens", "tenancy_state", "practices", "ledger", "alembic_version"} <= tables
    engine.dispose()
