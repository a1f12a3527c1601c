"""Prometheus metrics of the operator (prometheus-client).

- ``amadeus_practices{phase}``: Practices this operator follows, by phase (gauge)
- ``amadeus_reconcile_seconds{handler}``: time spent in one reconcile step (histogram)
- ``amadeus_submit_errors_total{backend,kind}``: failed submissions, ``kind`` = unavailable | rejected
- ``amadeus_runs_submitted_total{backend}``: runs really submitted (not adopted)
"""

from __future__ import annotations

import threading

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from studio_operator.crd import PHASES

__all__ = ["OperatorMetrics"]


class OperatorMetrics:
    """The operator's metrics in their own registry (one per operator instance)."""

    def __init__(self, registry: CollectorRegistry | None = None):
        self.registry = registry or CollectorRegistry()
        self.practices = Gauge("amadeus_practices", "Practices by phase", ["phase"], registry=self.registry)
        self.reconcile_seconds = Histogram(
            "amadeus_reconcile_seconds",
            "Duration of one reconcile step, seconds",
            ["handler"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry,
        )
        self.submit_errors = Counter(
            "amadeus_submit_errors", "Failed run submissions", ["backend", "kind"], registry=self.registry
        )
        self.runs_submitted = Counter("amadeus_runs_submitted", "Runs submitted", ["backend"], registry=self.registry)
        self._phases: dict[str, str] = {}
        self._lock = threading.Lock()
        for phase in PHASES:
            self.practices.labels(phase=phase).set(0)

    def set_phase(self, uid: str, phase: str | None) -> None:
        """Record that the Practice ``uid`` is now in ``phase`` (None: it is gone)."""
        with self._lock:
            old = self._phases.pop(uid, None)
            if old is not None:
                self.practices.labels(phase=old).dec()
            if phase is not None:
                self._phases[uid] = phase
                self.practices.labels(phase=phase).inc()

    def serve(self, port: int, addr: str = "0.0.0.0"):
        """Expose ``/metrics`` on ``port``; returns the server (``shutdown()`` to stop)."""
        from prometheus_client import start_http_server

        server, _thread = start_http_server(port, addr=addr, registry=self.registry)
        return server
