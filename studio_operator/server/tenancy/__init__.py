"""Tenancy: amas, tokens, plans, quotas and the usage ledger in a SQL database (SQLAlchemy + alembic).

SQLite file by default (``<home>/studio.db``), PostgreSQL for a hosted studio. See docs/studio.md.
"""

from studio_operator.server.tenancy.accounts import AccountStore, AmaRow, Grant, TenancyError
from studio_operator.server.tenancy.admission import (
    SINGLE_USER,
    AuthBackoff,
    RateLimiter,
    TenantDirectory,
    bearer_digest,
)
from studio_operator.server.tenancy.database import current_revision, default_url, head_revision, migrate, open_engine
from studio_operator.server.tenancy.ledger import LEVEL_METERS, METERS, Ledger, OpenPractice, UsageEntry, UsageRow
from studio_operator.server.tenancy.plans import (
    DEFAULT_PLANS,
    UNLIMITED,
    Plan,
    PlanBook,
    PlansFileError,
    month_of,
    next_month_start,
)
from studio_operator.server.tenancy.quotas import QuotaExceededError, Quotas

__all__ = [
    "DEFAULT_PLANS",
    "LEVEL_METERS",
    "METERS",
    "SINGLE_USER",
    "UNLIMITED",
    "AccountStore",
    "AmaRow",
    "AuthBackoff",
    "Grant",
    "Ledger",
    "OpenPractice",
    "Plan",
    "PlanBook",
    "PlansFileError",
    "QuotaExceededError",
    "Quotas",
    "RateLimiter",
    "TenancyError",
    "TenantDirectory",
    "UsageEntry",
    "UsageRow",
    "bearer_digest",
    "current_revision",
    "default_url",
    "head_revision",
    "migrate",
    "month_of",
    "next_month_start",
    "open_engine",
]
