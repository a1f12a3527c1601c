"""The door: who a call is (a token snapshot), how fast an ama may call, and failed-auth backoff.

All three answer from memory, so admission adds microseconds to a call (bench_tenancy.py):

* :class:`TenantDirectory`: sha256 → :class:`~.accounts.Grant` of every valid token, reloaded
  when the database's change counter moves (polled every ``refresh_s``, 0.25 s by default), so
  a revoked token, a disabled ama or a new plan takes effect on every replica within that time.
* :class:`RateLimiter`: a token bucket per ama (per replica) at its plan's ``requests_per_second``.
* :class:`AuthBackoff`: a peer address that keeps presenting bad tokens is refused for a while
  (doubling, up to ``max_lock_s``) without its token even being looked at. Unknown, wrong and
  revoked tokens, and disabled amas, all get the same ``UNAUTHENTICATED`` "unknown token".
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable

from studio_operator.server.errors import UnauthenticatedError
from studio_operator.server.tenancy.accounts import AccountStore, Grant
from studio_operator.server.tenancy.plans import UNLIMITED, Plan
from studio_operator.server.tenancy.quotas import QuotaExceededError

Metadata = Iterable[tuple[str, str | bytes]] | None
"""A call's invocation metadata: (key, value) pairs."""

__all__ = ["SINGLE_USER", "Metadata", "AuthBackoff", "RateLimiter", "TenantDirectory", "bearer_digest"]

SINGLE_USER = Grant("", UNLIMITED, None)
"""The grant of every call to a single-user studio (no amas in the database)."""


def bearer_digest(metadata: Metadata) -> str:
    """sha256 hex of the ``authorization: Bearer <token>`` metadata's token.

    Raises:
        UnauthenticatedError: the metadata is missing or not ``Bearer <token>``.
    """
    header = next((value for key, value in metadata or () if key == "authorization"), None)
    if not header:
        raise UnauthenticatedError("missing 'authorization: Bearer <token>' metadata")
    scheme, _, token = str(header).partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise UnauthenticatedError("authorization metadata must be 'Bearer <token>'")
    return hashlib.sha256(token.strip().encode()).hexdigest()


class TenantDirectory:
    """The valid tokens of the tenancy database, in memory, refreshed on change."""

    def __init__(self, accounts: AccountStore, *, refresh_s: float = 0.25):
        self.accounts = accounts
        self.refresh_s = refresh_s
        self.generation = -1
        self._grants: dict[str, Grant] = {}
        self._enabled = False
        self.reload()

    @property
    def enabled(self) -> bool:
        """False: no amas at all, a single-user studio (every call is the ama ``""``)."""
        return self._enabled

    def reload(self) -> None:
        """Read every grant now (blocking)."""
        generation, grants = self.accounts.grants()
        enabled = self.accounts.count_amas() > 0
        self._grants, self._enabled, self.generation = grants, enabled, generation

    def refresh(self) -> bool:
        """Reload when the database changed since the last load (blocking); True when it did."""
        if self.accounts.generation() == self.generation:
            return False
        self.reload()
        return True

    def authenticate(self, metadata: Metadata, *, now: _dt.datetime | None = None) -> Grant:
        """The grant of a call's bearer token.

        Raises:
            UnauthenticatedError: missing or malformed metadata; "unknown token" for a token that
                is unknown, revoked, or whose ama is disabled (indistinguishable); expired.
        """
        if not self._enabled:
            return SINGLE_USER
        grant = self._grants.get(bearer_digest(metadata))
        if grant is None:
            raise UnauthenticatedError("unknown token")
        if grant.expires_at is not None and (now or _dt.datetime.now(_dt.UTC)) >= grant.expires_at:
            raise UnauthenticatedError(f"token expired at {grant.expires_at.isoformat()}")
        return grant


class RateLimiter:
    """A token bucket per ama: ``requests_per_second`` refill, ``request_burst`` deep (plan limits)."""

    def __init__(self, max_amas: int = 100_000):
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()
        self.max_amas = max_amas

    def check(self, ama: str, plan: Plan, *, now: float | None = None) -> None:
        """Take one request from the ama's bucket.

        Raises:
            QuotaExceededError: the bucket is empty (limit ``requests_per_second``; says when to retry).
        """
        rate = plan.requests_per_second
        if rate is None:
            return
        burst = max(1.0, plan.request_burst or rate)
        now = time.monotonic() if now is None else now
        with self._lock:
            level, then = self._buckets.pop(ama, (burst, now))
            level = min(burst, level + (now - then) * rate)
            if level < 1.0:
                self._buckets[ama] = (level, now)
                wait = (1.0 - level) / rate if rate > 0 else float("inf")
                raise QuotaExceededError(
                    f"plan {plan.name!r}: requests_per_second: over {rate:g} requests/s (burst {burst:g}); "
                    f"retry in {wait:.2f} s",
                    "requests_per_second",
                )
            self._buckets[ama] = (level - 1.0, now)
            if len(self._buckets) > self.max_amas:
                self._buckets.popitem(last=False)


class AuthBackoff:
    """Failed authentications per peer address: after ``free_failures`` within ``window_s``, the
    peer is locked out for 1 s, then 2, 4, ... up to ``max_lock_s`` per further failure."""

    def __init__(self, *, free_failures: int = 5, window_s: float = 60.0, max_lock_s: float = 300.0):
        self.free_failures, self.window_s, self.max_lock_s = free_failures, window_s, max_lock_s
        self._peers: OrderedDict[str, tuple[int, float, float]] = OrderedDict()  # failures, last, locked until
        self._lock = threading.Lock()

    def locked_for(self, peer: str, *, now: float | None = None) -> float:
        """Seconds the peer stays locked out (0: it may try)."""
        now = time.monotonic() if now is None else now
        state = self._peers.get(peer)
        return max(0.0, state[2] - now) if state else 0.0

    def failed(self, peer: str, *, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            failures, last, _ = self._peers.pop(peer, (0, now, 0.0))
            failures = 1 if now - last > self.window_s else failures + 1
            over = failures - self.free_failures
            until = now + min(self.max_lock_s, 2.0 ** (over - 1)) if over > 0 else 0.0
            self._peers[peer] = (failures, now, until)
            if len(self._peers) > 100_000:
                self._peers.popitem(last=False)
