"""Quotas: a plan's limits, checked at the door (never by stopping work already admitted).

A refused call ends with ``RESOURCE_EXHAUSTED`` and a message that names the limit, the usage
and when it resets, e.g. ``plan 'free': practice_cpu_minutes: 121.0 of 120 minutes used in
2026-05; resets 2026-06-01T00:00:00Z``.
"""

from __future__ import annotations

import datetime as _dt

from studio_operator.server.errors import TooLargeError
from studio_operator.server.tenancy.ledger import Ledger
from studio_operator.server.tenancy.plans import Plan, month_of, next_month_start

__all__ = ["QuotaExceededError", "Quotas"]


class QuotaExceededError(TooLargeError):
    """A plan limit is reached (``RESOURCE_EXHAUSTED``); ``limit`` names it."""

    def __init__(self, message: str, limit: str):
        super().__init__(message)
        self.limit = limit


def _stamp(when: _dt.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


class Quotas:
    """Admission checks against the ledger (blocking: call them on a worker thread)."""

    def __init__(self, ledger: Ledger):
        self.ledger = ledger

    @staticmethod
    def _monthly(plan: Plan, limit: str, used_minutes: float, month: str) -> None:
        allowed = getattr(plan, limit)
        if allowed is not None and used_minutes >= allowed:
            raise QuotaExceededError(
                f"plan {plan.name!r}: {limit}: {used_minutes:.1f} of {allowed:g} minutes used in {month}; "
                f"resets {_stamp(next_month_start(month))}",
                limit,
            )

    def check_practice(
        self,
        ama: str,
        plan: Plan,
        *,
        active: int,
        device: str,
        upload_bytes: int,
        now: _dt.datetime | None = None,
    ) -> None:
        """May ``ama`` start one more practice on ``device`` (cpu | gpu) uploading ``upload_bytes``?

        Raises:
            QuotaExceededError: concurrent_practices, upload_bytes, stored_bytes or the device's
                practice minutes of this month.
        """
        if plan.concurrent_practices is not None and active >= plan.concurrent_practices:
            raise QuotaExceededError(
                f"plan {plan.name!r}: concurrent_practices: {active} of {plan.concurrent_practices} practices queued "
                "or running; resets when one of them ends",
                "concurrent_practices",
            )
        if plan.upload_bytes is not None and upload_bytes > plan.upload_bytes:
            raise QuotaExceededError(
                f"plan {plan.name!r}: upload_bytes: this practice uploads {upload_bytes} bytes, over the plan's "
                f"{plan.upload_bytes} bytes per practice",
                "upload_bytes",
            )
        month = month_of(now or _dt.datetime.now(_dt.UTC))
        usage = self.ledger.usage(ama, month)
        if plan.stored_bytes is not None and usage["stored_bytes"] + upload_bytes > plan.stored_bytes:
            raise QuotaExceededError(
                f"plan {plan.name!r}: stored_bytes: {usage['stored_bytes']:.0f} bytes stored + {upload_bytes} "
                f"to upload, over the plan's {plan.stored_bytes} bytes; does not reset (a bigger plan raises it)",
                "stored_bytes",
            )
        limit = "practice_gpu_minutes" if device == "gpu" else "practice_cpu_minutes"
        self._monthly(plan, limit, usage[f"practice_{device}_seconds"] / 60.0, month)

    def check_render(self, ama: str, plan: Plan, *, now: _dt.datetime | None = None) -> None:
        """May ``ama`` render (PerformFile, Perform)? Raises QuotaExceededError (render_minutes)."""
        if plan.render_minutes is None:
            return
        month = month_of(now or _dt.datetime.now(_dt.UTC))
        self._monthly(plan, "render_minutes", self.ledger.usage(ama, month)["render_audio_seconds"] / 60.0, month)
