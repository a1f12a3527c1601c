"""The studio server: grpc.aio with health checking, reflection, TLS, limits, metrics
and graceful shutdown.

:func:`serve` runs it until SIGINT/SIGTERM (the ``amadeus studio serve``
command); :class:`StudioServer` runs it on a background thread (tests,
benchmarks, embedding).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from dataclasses import dataclass, field
from pathlib import Path

import grpc

from instrument_agent.proto import studio_pb2, studio_pb2_grpc
from studio_operator.server.admission import Door
from studio_operator.server.backend import StudioBackend
from studio_operator.server.interceptor import StudioInterceptor
from studio_operator.server.metering import UsageMeter
from studio_operator.server.metrics import StudioMetrics
from studio_operator.server.service import StudioServicer
from studio_operator.server.tenancy import (
    AccountStore,
    Ledger,
    PlanBook,
    Quotas,
    TenantDirectory,
    default_url,
    migrate,
    open_engine,
)

__all__ = ["StudioConfig", "StudioServer", "build_backend", "serve"]

SERVICE_NAME = studio_pb2.DESCRIPTOR.services_by_name["Studio"].full_name


@dataclass
class StudioConfig:
    """Everything a studio server needs (all of it from the command line or a test).

    Attributes:
        home: the studio home (store, practices, caches).
        host / port: where gRPC listens (port 0 = a free one).
        metrics_port: Prometheus ``/metrics`` port (None = no HTTP server; 0 = a free one).
        database: the tenancy database URL (None = ``sqlite:///<home>/studio.db``; ``postgresql://…``).
            No amas in it = authentication off, single tenant.
        tokens: a tokens.yaml to import into the database at start (the migration path; idempotent).
        plans: the plans file (None = the packaged ``plans.yaml``).
        practice_device: ``cpu`` or ``gpu``: where this studio's practices run (their minutes count apart).
        auth_refresh_s: how often each replica checks the database for token / ama / plan changes.
        meter_interval_s: how often each replica meters the practices that ended.
        backend: ``embedded`` or ``cluster``.
        tls_cert / tls_key: PEM files; both or neither.
        max_upload_bytes: total audio bytes one Practice call may upload.
        max_practices_per_tenant: practices queued or running at once per ama.
        max_message_bytes: largest gRPC message in or out (an inline bundle must fit).
        workers: practices running at once (embedded backend).
        audio_roots: server directories audio may be named from (embedded backend).
        tf_serving: ``host:port`` of TensorFlow Serving for PerformFile (None = in-process).
        tf_serving_model: TF Serving model name template (``{deu}``, ``{ama}``).
        namespace / kubeconfig / s3_*: cluster backend settings (see docs/studio.md): ``namespace`` is the
            single-user namespace and the stem of the per-ama ones (``<namespace>-<ama>``); the bucket
            holds ``<s3_prefix>/tenants/<ama>/{personalities,practices}``.
        grace_s: seconds in-flight calls get on shutdown.
    """

    home: Path
    host: str = "[::]"
    port: int = 50051
    metrics_port: int | None = 9090
    database: str | None = None
    tokens: Path | None = None
    plans: Path | None = None
    practice_device: str = "cpu"
    auth_refresh_s: float = 0.25
    meter_interval_s: float = 2.0
    backend: str = "embedded"
    tls_cert: Path | None = None
    tls_key: Path | None = None
    max_upload_bytes: int = 512 << 20
    max_practices_per_tenant: int = 2
    max_message_bytes: int = 64 << 20
    workers: int = 1
    audio_roots: list[Path] = field(default_factory=list)
    tf_serving: str | None = None
    tf_serving_model: str = "{deu}"
    namespace: str = "amadeus"
    kubeconfig: Path | None = None
    s3_endpoint: str | None = None
    s3_bucket: str = "amadeus"
    s3_prefix: str = ""
    s3_access_key: str | None = None
    s3_secret_key: str | None = None
    s3_secure: bool = True
    grace_s: float = 10.0
    runner: list[str] | None = None


def build_backend(config: StudioConfig, metrics: StudioMetrics) -> StudioBackend:
    """The configured backend (embedded or cluster); the server knows it as a :class:`StudioBackend` only."""
    if config.backend == "embedded":
        from studio_operator.server.backends.embedded.backend import EmbeddedBackend

        return EmbeddedBackend(
            config.home,
            workers=config.workers,
            audio_roots=config.audio_roots,
            runner=config.runner,
            metrics=metrics,
            device=config.practice_device,
        )
    if config.backend == "cluster":
        try:
            from studio_operator.server.backends.cluster.backend import ClusterBackend
        except ModuleNotFoundError as exc:
            raise ValueError(f"the cluster backend needs {exc.name!r}: pip install 'amadeus[studio]'") from None
        return ClusterBackend(
            config.home,
            namespace=config.namespace,
            kubeconfig=config.kubeconfig,
            metrics=metrics,
            s3_endpoint=config.s3_endpoint,
            s3_bucket=config.s3_bucket,
            s3_prefix=config.s3_prefix,
            s3_access_key=config.s3_access_key,
            s3_secret_key=config.s3_secret_key,
            s3_secure=config.s3_secure,
            device=config.practice_device,
        )
    raise ValueError(f"backend {config.backend!r}: choose embedded or cluster")


class _Running:
    """The parts of a started server (inside its event loop)."""

    def __init__(self, config: StudioConfig):
        if (config.tls_cert is None) != (config.tls_key is None):
            raise ValueError("TLS needs both --tls-cert and --tls-key")
        if config.practice_device not in ("cpu", "gpu"):
            raise ValueError(f"practice device {config.practice_device!r}: choose cpu or gpu")
        self.config = config
        self.metrics = StudioMetrics()
        self.plans = PlanBook.load(config.plans)
        self.engine = open_engine(config.database or default_url(config.home))
        migrate(self.engine)
        self.accounts = AccountStore(self.engine, self.plans)
        if config.tokens:
            self.accounts.import_tokens_file(config.tokens)
        self.tokens = TenantDirectory(self.accounts, refresh_s=config.auth_refresh_s)
        self.ledger = Ledger(self.engine)
        self.backend: StudioBackend = build_backend(config, self.metrics)
        self.meter = UsageMeter(self.ledger, self.accounts, self.backend, self.metrics)
        self._tasks: list[asyncio.Task] = []
        self.tf_serving = None
        if config.tf_serving:
            from studio_operator.server.perform.tf_serving import TFServingRenderer

            self.tf_serving = TFServingRenderer(config.tf_serving, model_name=config.tf_serving_model)
        self.server = None
        self.health = None
        self.port = None
        self.metrics_port = None

    async def start(self) -> None:
        from grpc_health.v1 import health, health_pb2, health_pb2_grpc
        from grpc_reflection.v1alpha import reflection

        c = self.config
        options = [
            ("grpc.max_receive_message_length", c.max_message_bytes),
            ("grpc.max_send_message_length", c.max_message_bytes),
            ("grpc.so_reuseport", 0),
        ]
        door = Door(self.tokens, self.plans, self.metrics)
        self.server = grpc.aio.server(interceptors=[StudioInterceptor(door, self.metrics)], options=options)
        servicer = StudioServicer(
            self.backend,
            c.home,
            max_upload_bytes=c.max_upload_bytes,
            max_practices_per_tenant=c.max_practices_per_tenant,
            tf_serving=self.tf_serving,
            plans=self.plans,
            quotas=Quotas(self.ledger),
            meter=self.meter,
        )
        studio_pb2_grpc.add_StudioServicer_to_server(servicer, self.server)
        self.health = health.aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        reflection.enable_server_reflection((SERVICE_NAME, health.SERVICE_NAME, reflection.SERVICE_NAME), self.server)
        address = f"{c.host}:{c.port}"
        if c.tls_cert:
            credentials = grpc.ssl_server_credentials([(Path(c.tls_key).read_bytes(), Path(c.tls_cert).read_bytes())])
            self.port = self.server.add_secure_port(address, credentials)
        else:
            self.port = self.server.add_insecure_port(address)
        if not self.port:
            raise OSError(f"cannot listen on {address}")
        if c.metrics_port is not None:
            self.metrics_port = self.metrics.serve_http(c.metrics_port)
        await self.backend.start()
        self._tasks = [
            asyncio.create_task(self._every(c.auth_refresh_s, self.tokens.refresh)),
            asyncio.create_task(self._every(c.meter_interval_s, self.meter.sweep)),
        ]
        await self.server.start()
        for name in ("", SERVICE_NAME):
            await self.health.set(name, health_pb2.HealthCheckResponse.SERVING)

    @staticmethod
    async def _every(interval: float, work) -> None:
        """Run blocking ``work`` on a worker thread every ``interval`` seconds; a failing database is retried."""
        import logging

        while True:
            await asyncio.sleep(interval)
            try:
                await asyncio.to_thread(work)
            except Exception:  # noqa: BLE001 - the database may be briefly unreachable; keep serving
                logging.getLogger(__name__).exception("%s failed", getattr(work, "__qualname__", work))

    async def stop(self, grace: float | None = None) -> None:
        """Graceful shutdown: report NOT_SERVING, refuse new calls, let in-flight calls finish within ``grace``."""
        grace = self.config.grace_s if grace is None else grace
        if self.health is not None:
            await self.health.enter_graceful_shutdown()
        if self.server is not None:
            await self.server.stop(grace)
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.backend.stop()
        await asyncio.to_thread(self.meter.sweep)  # practices that ended during the grace period
        if self.tf_serving is not None:
            self.tf_serving.close()
        self.metrics.stop_http()
        self.engine.dispose()


async def _serve_forever(config: StudioConfig, ready=None) -> None:
    running = _Running(config)
    await running.start()
    if ready is not None:
        ready(running)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await running.stop()


def serve(config: StudioConfig, ready=None) -> None:
    """Run the studio until SIGINT or SIGTERM, then shut down gracefully."""
    asyncio.run(_serve_forever(config, ready))


class StudioServer:
    """A studio server on a background thread with its own event loop.

    >>> server = StudioServer(StudioConfig(home=tmp, port=0, metrics_port=0)).start()
    >>> server.address   # '127.0.0.1:PORT'
    >>> server.stop()
    """

    def __init__(self, config: StudioConfig):
        self.config = config
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._running: _Running | None = None

    @property
    def port(self) -> int:
        return self._running.port

    @property
    def address(self) -> str:
        return f"localhost:{self.port}"

    @property
    def metrics(self) -> StudioMetrics:
        return self._running.metrics

    @property
    def metrics_port(self) -> int | None:
        return self._running.metrics_port

    @property
    def backend(self) -> StudioBackend:
        return self._running.backend

    @property
    def accounts(self) -> AccountStore:
        return self._running.accounts

    @property
    def ledger(self) -> Ledger:
        return self._running.ledger

    @property
    def meter(self) -> UsageMeter:
        return self._running.meter

    def start(self) -> StudioServer:
        started = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
            try:
                self._running = _Running(self.config)
                self._loop.run_until_complete(self._running.start())
            except BaseException as exc:  # noqa: BLE001 - reported to start()
                failure.append(exc)
                started.set()
                return
            started.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name="amadeus-studio", daemon=True)
        self._thread.start()
        started.wait()
        if failure:
            raise failure[0]
        return self

    def call(self, coroutine_factory, timeout: float = 30.0):
        """Run ``coroutine_factory()`` on the server's loop and return its result."""
        return asyncio.run_coroutine_threadsafe(coroutine_factory(), self._loop).result(timeout)

    def stop(self, grace: float | None = 1.0) -> None:
        if self._loop is None or self._running is None:
            return
        self.call(lambda: self._running.stop(grace), timeout=(grace or 0) + 60)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()
        self._loop = None

    def __enter__(self) -> StudioServer:
        return self.start() if self._loop is None else self

    def __exit__(self, *exc) -> None:
        self.stop()
