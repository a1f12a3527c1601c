"""Metering: practices, renders, stored and downloaded bytes become ledger entries.

* A practice is remembered when it is admitted (:meth:`~.tenancy.Ledger.admit`, before it is
  submitted; its uploads count as stored bytes once it is, :meth:`UsageMeter.stored_uploads`)
  and metered when its final progress is terminal: a sweep on every replica
  (:meth:`UsageMeter.sweep`) asks the backend for each open practice; the first replica to see it
  terminal writes its seconds (:class:`~.backend.PracticeMeasurer`, every
  attempt summed) and, when a version was published, that version's bytes. The ledger's unique
  keys make a second replica's, or a restarted one's, write a no-op.
* A render (PerformFile, one Perform stream) and a download are metered when the call ends.

Counters per plan (never per ama, to keep label cardinality bounded) count the new entries only.
"""

from __future__ import annotations

import datetime as _dt
import logging
import uuid
from pathlib import Path

from studio_operator.server.backend import PracticeMeasurer, StudioBackend
from studio_operator.server.errors import NotFoundError
from studio_operator.server.metrics import StudioMetrics
from studio_operator.server.tenancy import AccountStore, Ledger, UsageEntry
from studio_operator.server.tenancy.plans import UNLIMITED

__all__ = ["UsageMeter"]

_log = logging.getLogger(__name__)
_TERMINAL = ("SUCCEEDED", "FAILED", "CANCELLED")


def _tree_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


class UsageMeter:
    """Writes usage entries for one studio server (any number of replicas may share the database)."""

    def __init__(self, ledger: Ledger, accounts: AccountStore, backend: StudioBackend, metrics: StudioMetrics):
        self.ledger, self.accounts, self.backend, self.metrics = ledger, accounts, backend, metrics

    @property
    def device(self) -> str:
        return self.backend.device if isinstance(self.backend, PracticeMeasurer) else "cpu"

    def _plan(self, ama: str) -> str:
        return self.accounts.plan_of(ama) if ama else UNLIMITED

    def _counted(self, entries: list[UsageEntry]) -> list[UsageEntry]:
        for entry in entries:
            self.metrics.usage.labels(entry.plan, entry.meter).inc(entry.quantity)
        return entries

    # -- practices --------------------------------------------------------------
    def stored_uploads(self, ama: str, plan: str, practice_id: str, upload_bytes: int) -> None:
        """A submitted practice's uploads are stored bytes (once per practice id)."""
        if upload_bytes:
            entry = UsageEntry(f"practice/{ama}/{practice_id}/uploads", ama, plan, "stored_bytes", upload_bytes)
            self._counted(self.ledger.record([entry]))

    def meter_practice(self, ama: str, practice_id: str, device: str) -> bool:
        """Meter one admitted practice if it is terminal; True when it is closed now."""
        try:
            progress = self.backend.progress(ama, practice_id)
        except NotFoundError:
            self.ledger.close_practice(ama, practice_id, [])
            return True
        phase = type(progress).Phase.Name(progress.phase)
        if phase not in _TERMINAL:
            return False
        plan = self._plan(ama)
        key = f"practice/{ama}/{practice_id}"
        seconds = 0.0
        if isinstance(self.backend, PracticeMeasurer):
            seconds = self.backend.practice_seconds(ama, practice_id)
            if seconds is None:  # its runner has not exited yet: measure it at the next sweep
                return False
        entries = [UsageEntry(f"{key}/seconds", ama, plan, f"practice_{device}_seconds", seconds, subject=phase)]
        if phase == "SUCCEEDED" and progress.version:
            try:
                bundle = self.backend.store(ama).bundle_path(progress.deu, progress.version)
                size = _tree_bytes(bundle) if bundle.is_dir() else 0
            except Exception:  # noqa: BLE001 - a store that cannot say does not stop the metering
                _log.exception("cannot size %s v%s of ama %r", progress.deu, progress.version, ama)
                size = 0
            subject = f"{progress.deu} v{progress.version}"
            entries.append(UsageEntry(f"{key}/version", ama, plan, "stored_bytes", size, subject=subject))
        self._counted(self.ledger.close_practice(ama, practice_id, entries))
        return True

    def sweep(self) -> int:
        """Meter every open practice that has ended (blocking); returns how many were closed."""
        closed = 0
        for row in self.ledger.open_practices():
            try:
                closed += self.meter_practice(row.ama, row.practice_id, row.device)
            except Exception:  # noqa: BLE001 - one unreachable practice must not stop the others
                _log.exception("metering practice %s of ama %r", row.practice_id, row.ama)
        return closed

    # -- renders and downloads ----------------------------------------------------
    def render(self, ama: str, plan: str, audio_seconds: float, compute_seconds: float, subject: str) -> None:
        """One finished render: audio seconds produced and the wall seconds it took."""
        key = f"render/{uuid.uuid4().hex}"
        now = _dt.datetime.now(_dt.UTC)
        self._counted(
            self.ledger.record(
                [
                    UsageEntry(f"{key}/audio", ama, plan, "render_audio_seconds", audio_seconds, now, subject),
                    UsageEntry(f"{key}/compute", ama, plan, "render_compute_seconds", compute_seconds, now, subject),
                ]
            )
        )

    def download(self, ama: str, plan: str, sent_bytes: int, subject: str) -> None:
        key = f"download/{uuid.uuid4().hex}"
        self._counted(self.ledger.record([UsageEntry(key, ama, plan, "downloaded_bytes", sent_bytes, subject=subject)]))
