"""The tenancy tables (SQLAlchemy Core): amas, their tokens, admitted practices and the usage ledger.

=================  ==========================================================================
table              rows
=================  ==========================================================================
``amas``           one per ama: its plan, whether it is disabled
``tokens``         bearer tokens, by sha256 only; expiry, revocation (``revoked_at``)
``tenancy_state``  one row: ``generation``, bumped by every change to amas or tokens, so each
                   replica reloads its token snapshot as soon as it sees a new value
``practices``      practices admitted at the door and not yet metered (``metered_at`` null)
``ledger``         usage entries; ``key`` is unique, so an entry written twice (a retried or
                   resumed practice, two replicas metering the same one) is counted once
=================  ==========================================================================

Times are timezone-aware UTC; quantities are floats in the meter's unit (seconds or bytes).
The migrations (:mod:`.migrations`) create exactly these tables.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
)

__all__ = ["amas", "ledger", "metadata", "practices", "tenancy_state", "tokens"]

metadata = MetaData()

amas = Table(
    "amas",
    metadata,
    Column("name", String(63), primary_key=True),
    Column("plan", String(63), nullable=False),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

tokens = Table(
    "tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ama", String(63), ForeignKey("amas.name"), nullable=False, index=True),
    Column("sha256", String(64), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=True),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
)

tenancy_state = Table(
    "tenancy_state",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("generation", Integer, nullable=False),
)

practices = Table(
    "practices",
    metadata,
    Column("practice_id", String(80), primary_key=True),
    Column("ama", String(63), primary_key=True),
    Column("device", String(8), nullable=False),
    Column("admitted_at", DateTime(timezone=True), nullable=False),
    Column("metered_at", DateTime(timezone=True), nullable=True),
    Index("ix_practices_open", "metered_at"),
)

ledger = Table(
    "ledger",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(200), nullable=False, unique=True),
    Column("ama", String(63), nullable=False),
    Column("plan", String(63), nullable=False),
    Column("meter", String(40), nullable=False),
    Column("quantity", Float, nullable=False),
    Column("month", String(7), nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("subject", String(200), nullable=False, default=""),
    Index("ix_ledger_ama_month", "ama", "month", "meter"),
)
