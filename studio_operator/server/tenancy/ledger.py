"""The usage ledger: what each ama used, one row per (event, meter), each counted once.

Every entry has a ``key`` (``practice/<ama>/<id>/<meter>``, ``render/<call id>/<meter>``...)
that is unique in the table; writing it again (a retried or resumed practice, two replicas
metering the same practice, a replica restarted mid-way) inserts nothing. :meth:`Ledger.record`
returns only the entries that were new, so the Prometheus counters count each once too.

======================== ======= ======================================================
meter                    unit    from
======================== ======= ======================================================
practice_cpu_seconds     s       a practice on CPU: the runner's elapsed seconds
practice_gpu_seconds     s       a practice on GPU: the runner's elapsed seconds
render_audio_seconds     s       audio produced by PerformFile and Perform
render_compute_seconds   s       wall seconds spent rendering it
stored_bytes             B       uploads kept and personality versions published (a level:
                                 summed over every month)
downloaded_bytes         B       packed bundle bytes sent by DownloadPersonality
======================== ======= ======================================================
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from studio_operator.server.tenancy.plans import month_of
from studio_operator.server.tenancy.schema import ledger, practices

__all__ = ["LEVEL_METERS", "METERS", "Ledger", "OpenPractice", "UsageEntry", "UsageRow"]

METERS = (
    "practice_cpu_seconds",
    "practice_gpu_seconds",
    "render_audio_seconds",
    "render_compute_seconds",
    "stored_bytes",
    "downloaded_bytes",
)
LEVEL_METERS = ("stored_bytes",)
"""Meters whose usage is a level (summed over all months), not a monthly total."""


@dataclass(frozen=True)
class UsageEntry:
    """One ledger row to write. ``quantity`` in the meter's unit (seconds or bytes)."""

    key: str
    ama: str
    plan: str
    meter: str
    quantity: float
    occurred_at: _dt.datetime = field(default_factory=lambda: _dt.datetime.now(_dt.UTC))
    subject: str = ""


@dataclass(frozen=True)
class UsageRow:
    """One line of a billing report: an ama's total of one meter in one month."""

    ama: str
    plan: str
    month: str
    meter: str
    quantity: float
    entries: int


@dataclass(frozen=True)
class OpenPractice:
    """A practice admitted at the door and not metered yet."""

    ama: str
    practice_id: str
    device: str


class Ledger:
    """Usage entries and admitted practices in the tenancy database (``engine``: migrated)."""

    def __init__(self, engine: Engine):
        self.engine = engine
        dialect = engine.dialect.name
        self._insert = postgresql.insert if dialect == "postgresql" else sqlite.insert

    def _write(self, connection: sa.Connection, entries: Sequence[UsageEntry]) -> list[UsageEntry]:
        if not entries:
            return []
        for entry in entries:
            if entry.meter not in METERS:
                raise ValueError(f"meter {entry.meter!r}: not one of {', '.join(METERS)}")
        rows = [
            dict(
                key=e.key,
                ama=e.ama,
                plan=e.plan,
                meter=e.meter,
                quantity=float(e.quantity),
                month=month_of(e.occurred_at),
                occurred_at=e.occurred_at,
                subject=e.subject[:200],
            )
            for e in entries
        ]
        query = self._insert(ledger).on_conflict_do_nothing(index_elements=["key"]).returning(ledger.c.key)
        new = set(connection.execute(query, rows).scalars())
        return [e for e in entries if e.key in new]

    def record(self, entries: Iterable[UsageEntry]) -> list[UsageEntry]:
        """Write entries in one transaction; returns those that were new (the others were already there)."""
        with self.engine.begin() as connection:
            return self._write(connection, list(entries))

    # -- practices ------------------------------------------------------------
    def admit(self, ama: str, practice_id: str, device: str) -> None:
        """Remember an admitted practice until it is metered (a retried call admits it once)."""
        row = dict(ama=ama, practice_id=practice_id, device=device, admitted_at=_dt.datetime.now(_dt.UTC))
        query = self._insert(practices).values(row).on_conflict_do_nothing(index_elements=["practice_id", "ama"])
        with self.engine.begin() as connection:
            connection.execute(query)

    def open_practices(self, limit: int = 500) -> list[OpenPractice]:
        query = (
            sa.select(practices.c.ama, practices.c.practice_id, practices.c.device)
            .where(practices.c.metered_at.is_(None))
            .order_by(practices.c.admitted_at)
            .limit(limit)
        )
        with self.engine.connect() as connection:
            return [OpenPractice(*row) for row in connection.execute(query)]

    def close_practice(self, ama: str, practice_id: str, entries: Sequence[UsageEntry]) -> list[UsageEntry]:
        """Write a finished practice's entries and mark it metered, in one transaction; returns the new ones."""
        with self.engine.begin() as connection:
            new = self._write(connection, entries)
            connection.execute(
                practices.update()
                .where(practices.c.ama == ama, practices.c.practice_id == practice_id, practices.c.metered_at.is_(None))
                .values(metered_at=_dt.datetime.now(_dt.UTC))
            )
        return new

    # -- reading --------------------------------------------------------------
    def usage(self, ama: str, month: str) -> dict[str, float]:
        """meter → the ama's total in ``month`` (``YYYY-MM``); level meters summed over every month."""
        totals = dict.fromkeys(METERS, 0.0)
        monthly = (
            sa.select(ledger.c.meter, sa.func.sum(ledger.c.quantity))
            .where(ledger.c.ama == ama, ledger.c.month == month, ledger.c.meter.not_in(LEVEL_METERS))
            .group_by(ledger.c.meter)
        )
        level = (
            sa.select(ledger.c.meter, sa.func.sum(ledger.c.quantity))
            .where(ledger.c.ama == ama, ledger.c.meter.in_(LEVEL_METERS))
            .group_by(ledger.c.meter)
        )
        with self.engine.connect() as connection:
            for query in (monthly, level):
                for meter, total in connection.execute(query):
                    totals[meter] = float(total or 0.0)
        return totals

    def report(self, month: str | None = None, ama: str | None = None) -> list[UsageRow]:
        """Totals per (ama, plan, month, meter), sorted: what ``amadeus studio usage`` prints."""
        columns = (ledger.c.ama, ledger.c.plan, ledger.c.month, ledger.c.meter)
        query = sa.select(*columns, sa.func.sum(ledger.c.quantity), sa.func.count()).group_by(*columns)
        if month:
            query = query.where(ledger.c.month == month)
        if ama is not None:
            query = query.where(ledger.c.ama == ama)
        with self.engine.connect() as connection:
            rows = [UsageRow(r[0], r[1], r[2], r[3], float(r[4]), int(r[5])) for r in connection.execute(query)]
        return sorted(rows, key=lambda r: (r.month, r.ama, r.meter))
