"""Prometheus metrics of the studio, on their own registry and HTTP port (``/metrics``).

=========================================  =========  ==========================
name                                        type       labels
=========================================  =========  ==========================
amadeus_studio_requests_total               counter    method, code
amadeus_studio_request_seconds              histogram  method
amadeus_studio_active_streams               gauge      method
amadeus_studio_received_bytes_total         counter    method
amadeus_studio_sent_bytes_total             counter    method
amadeus_studio_practices                    gauge      state (queued | running)
amadeus_studio_usage_total                  counter    plan, meter
amadeus_studio_refusals_total               counter    plan, limit
amadeus_studio_auth_failures_total          counter
=========================================  =========  ==========================

Bytes are serialized protobuf message sizes. Usage counts each new ledger entry once, in the
meter's unit (seconds or bytes); it and the refusals are labelled by plan, never by ama, so the
number of series stays bounded however many amas there are.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

__all__ = ["StudioMetrics"]

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800)


class StudioMetrics:
    """The studio's metrics; a private registry so several servers can share a process (tests)."""

    def __init__(self, registry: CollectorRegistry | None = None):
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "amadeus_studio_requests", "Finished RPCs by method and status code", ["method", "code"], registry=r
        )
        self.latency = Histogram(
            "amadeus_studio_request_seconds",
            "RPC duration (whole stream for streaming RPCs)",
            ["method"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.active_streams = Gauge(
            "amadeus_studio_active_streams", "Streaming RPCs in progress", ["method"], registry=r
        )
        self.bytes_in = Counter(
            "amadeus_studio_received_bytes", "Request message bytes received", ["method"], registry=r
        )
        self.bytes_out = Counter("amadeus_studio_sent_bytes", "Response message bytes sent", ["method"], registry=r)
        self.practices = Gauge("amadeus_studio_practices", "Practices by state", ["state"], registry=r)
        self.usage = Counter(
            "amadeus_studio_usage", "Metered usage (ledger entries) by plan and meter", ["plan", "meter"], registry=r
        )
        self.refusals = Counter(
            "amadeus_studio_refusals", "Calls refused at a plan limit, by plan and limit", ["plan", "limit"], registry=r
        )
        self.auth_failures = Counter("amadeus_studio_auth_failures", "Failed authentications", registry=r)
        self.practices.labels("queued").set(0)
        self.practices.labels("running").set(0)
        self._http = None

    def serve_http(self, port: int, address: str = "0.0.0.0") -> int:
        """Expose ``/metrics`` on ``port`` (0 = a free one); returns the bound port."""
        server, _thread = start_http_server(port, addr=address, registry=self.registry)
        self._http = server
        return server.server_address[1]

    def stop_http(self) -> None:
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
            self._http = None

    def value(self, name: str, **labels) -> float:
        """Current value of one sample (for tests and the benchmark); 0 when absent."""
        got = self.registry.get_sample_value(name, labels)
        return float(got or 0.0)
