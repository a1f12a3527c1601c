"""Exponential backoff for calls to a remote store."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from .errors import RegistryUnavailableError

__all__ = ["Backoff", "with_backoff"]

T = TypeVar("T")


class Backoff:
    """Retry policy: ``attempts`` tries, sleeping ``base_delay · factor**i`` s (at most ``max_delay``) between them."""

    def __init__(self, attempts: int = 5, base_delay: float = 0.2, factor: float = 2.0, max_delay: float = 5.0):
        if attempts < 1:
            raise ValueError("Backoff needs attempts >= 1")
        self.attempts = attempts
        self.base_delay = base_delay
        self.factor = factor
        self.max_delay = max_delay

    def delays(self) -> list[float]:
        """The sleeps between attempts, s (``attempts - 1`` of them)."""
        return [min(self.max_delay, self.base_delay * self.factor**i) for i in range(self.attempts - 1)]


def with_backoff(
    call: Callable[[], T],
    *,
    policy: Backoff,
    transient: tuple[type[BaseException], ...],
    endpoint: str,
    what: str,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run ``call``; on a ``transient`` exception retry after each backoff delay.

    Raises:
        RegistryUnavailableError naming ``endpoint`` and ``what`` when every attempt failed.
    """
    delays = policy.delays()
    for attempt in range(policy.attempts):
        try:
            return call()
        except transient as exc:
            if attempt == policy.attempts - 1:
                raise RegistryUnavailableError(
                    f"{what}: {endpoint} is unreachable or failing after {policy.attempts} attempts "
                    f"({type(exc).__name__}: {exc})",
                    endpoint,
                    policy.attempts,
                ) from exc
            sleep(delays[attempt])
    raise AssertionError("unreachable")
