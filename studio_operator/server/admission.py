"""The door every Studio RPC passes (in :class:`~.interceptor.StudioInterceptor`), in this order:

1. failed-authentication backoff: a peer address locked out is refused (``RESOURCE_EXHAUSTED``,
   with when to retry) before its token is read, so the lock-out says nothing about the token;
2. authentication against the tenant snapshot (``UNAUTHENTICATED``; a failure counts for the peer);
3. the ama's request rate (``RESOURCE_EXHAUSTED``, naming ``requests_per_second``).

Every step answers from memory. Refusals are counted per plan and limit.
"""

from __future__ import annotations

from studio_operator.server.errors import StudioError, TooLargeError, UnauthenticatedError
from studio_operator.server.metrics import StudioMetrics
from studio_operator.server.tenancy import (
    AuthBackoff,
    Grant,
    PlanBook,
    QuotaExceededError,
    RateLimiter,
    TenantDirectory,
)
from studio_operator.server.tenancy.admission import Metadata

__all__ = ["Door", "peer_host"]


def peer_host(peer: str | None) -> str:
    """The address part of a gRPC peer string (``ipv4:1.2.3.4:5678`` → ``ipv4:1.2.3.4``)."""
    if not peer:
        return ""
    if peer.startswith(("ipv4:", "ipv6:")):
        return peer.rsplit(":", 1)[0]
    return peer


class Door:
    """Admission of one call: who it is, whether its peer or its ama must wait."""

    def __init__(
        self,
        directory: TenantDirectory,
        plans: PlanBook,
        metrics: StudioMetrics,
        *,
        limiter: RateLimiter | None = None,
        backoff: AuthBackoff | None = None,
    ):
        self.directory, self.plans, self.metrics = directory, plans, metrics
        self.limiter = limiter or RateLimiter()
        self.backoff = backoff or AuthBackoff()

    def admit(self, metadata: Metadata, peer: str | None) -> Grant:
        """The call's grant, or a :class:`StudioError` (UNAUTHENTICATED, RESOURCE_EXHAUSTED) to end it with."""
        host = peer_host(peer)
        wait = self.backoff.locked_for(host) if self.directory.enabled else 0.0
        if wait > 0:
            self.metrics.refusals.labels("", "auth_backoff").inc()
            raise TooLargeError(f"too many failed authentications from this address; retry in {wait:.1f} s")
        try:
            grant = self.directory.authenticate(metadata)
        except UnauthenticatedError:
            self.backoff.failed(host)
            self.metrics.auth_failures.inc()
            raise
        plan = self.plans[grant.plan]
        try:
            self.limiter.check(grant.ama, plan)
        except QuotaExceededError as exc:
            self.metrics.refusals.labels(plan.name, exc.limit).inc()
            raise
        return grant


def refused(metrics: StudioMetrics, plan: str, exc: StudioError) -> None:
    """Count a quota refusal made past the door (in the servicer)."""
    if isinstance(exc, QuotaExceededError):
        metrics.refusals.labels(plan, exc.limit).inc()
