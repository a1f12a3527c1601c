"""Tenancy: amas, tokens, the generation row, admitted practices and the usage ledger.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "amas",
        sa.Column("name", sa.String(63), primary_key=True),
        sa.Column("plan", sa.String(63), nullable=False),
        sa.Column("disabled", sa.Boolean, nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
    )
    op.create_table(
        "tokens",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("ama", sa.String(63), sa.ForeignKey("amas.name"), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", _TZ, nullable=False),
        sa.Column("expires_at", _TZ, nullable=True),
        sa.Column("revoked_at", _TZ, nullable=True),
    )
    op.create_index("ix_tokens_ama", "tokens", ["ama"])
    state = op.create_table(
        "tenancy_state",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("generation", sa.Integer, nullable=False),
    )
    op.bulk_insert(state, [{"id": 1, "generation": 0}])
    op.create_table(
        "practices",
        sa.Column("practice_id", sa.String(80), primary_key=True),
        sa.Column("ama", sa.String(63), primary_key=True),
        sa.Column("device", sa.String(8), nullable=False),
        sa.Column("admitted_at", _TZ, nullable=False),
        sa.Column("metered_at", _TZ, nullable=True),
    )
    op.create_index("ix_practices_open", "practices", ["metered_at"])
    op.create_table(
        "ledger",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(200), nullable=False, unique=True),
        sa.Column("ama", sa.String(63), nullable=False),
        sa.Column("plan", sa.String(63), nullable=False),
        sa.Column("meter", sa.String(40), nullable=False),
        sa.Column("quantity", sa.Float, nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("occurred_at", _TZ, nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
    )
    op.create_index("ix_ledger_ama_month", "ledger", ["ama", "month", "meter"])


def downgrade() -> None:
    for table in ("ledger", "practices", "tenancy_state", "tokens", "amas"):
        op.drop_table(table)
