"""The kopf handlers that reconcile Practice resources into runs.

Lifecycle of a Practice (``status.phase``)::

    (created) ──submit──▶ Pending ──run starts──▶ Running ──▶ Succeeded | Failed
         │                    │                                    ▲
         └─ invalid spec, unknown deu/version, rejected submit ────┘ Failed
    (deleted while Pending/Running) ──▶ the run is cancelled, then the finalizer is released

- **create** (``submit``): validate, check the deu/base version in the
  catalog, submit through the chosen backend (``spec.backend`` or the
  operator's default). Submission is idempotent (the run is named from the
  uid and looked up first). An unreachable backend raises
  ``kopf.TemporaryError`` with exponential backoff: the Practice stays
  ``Pending`` with ``Submitted=False/BackendUnavailable``, never Failed.
- **timer** (``follow``): while Pending/Running (or before any status), poll the run; the poll
  interval doubles while nothing changes (``poll_interval`` →
  ``max_poll_interval``). On success the version the run published is read
  from the catalog into ``status.version`` and ``status.metrics``. A Practice
  whose create handler is recorded as done but whose status has no run (an
  operator stopped between kopf's annotation patch and its status patch) is
  submitted/adopted by the timer after a grace period.
- **delete** (``cancel``): a finalizer holds the Practice until its active run
  is cancelled (retried with backoff while the backend is unreachable).
- **spec change**: the spec is immutable (a CEL rule on the CRD rejects
  updates). On an API server that does not enforce CEL, a change after
  submission is not applied: the running practice continues with the spec it
  was submitted with and ``SpecChangeRejected=True`` names the ignored
  generation.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import kopf

from studio_operator.crd import GROUP, PLURAL, VERSION
from studio_operator.operator.backend import (
    BackendUnavailableError,
    RunBackend,
    RunNotFoundError,
    RunState,
    RunStatus,
    SubmitRejectedError,
)
from studio_operator.operator.catalog import Catalog, CatalogUnavailableError, UnknownBaseError
from studio_operator.operator.config import OperatorConfig
from studio_operator.operator.metrics import OperatorMetrics
from studio_operator.operator.practice import PracticeRequest, PracticeSpecError
from studio_operator.operator.status import condition, now, reject_spec_change, set_condition
from studio_operator.operator.validation import practice_errors

__all__ = ["PracticeOperator"]

_ACTIVE = ("Pending", "Running")
_log = logging.getLogger(__name__)


class PracticeOperator:
    """The Practice reconciler: owns the backends, catalog and metrics; builds kopf's registry.

    Args:
        config: operator settings.
        catalog: where deus/versions are checked and published versions found.
        backends: factories of the run backends by name (``kfp``, ``job``),
            each called once on first use (a factory that raises
            ``ValueError`` means "not configured": such Practices fail).
        metrics: Prometheus metrics (a fresh registry by default).
        max_workers: threads for the blocking backend/catalog calls.
    """

    def __init__(
        self,
        config: OperatorConfig,
        *,
        catalog: Catalog,
        backends: Mapping[str, Callable[[], RunBackend]],
        metrics: OperatorMetrics | None = None,
        max_workers: int = 16,
    ):
        self.config = config
        self.catalog = catalog
        self.metrics = metrics or OperatorMetrics()
        self._factories = dict(backends)
        self._backends: dict[str, RunBackend] = {}
        self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="amadeus-op")
        self._locks: dict[str, asyncio.Lock] = {}

    def _lock(self, uid: str) -> asyncio.Lock:
        """One submission at a time per Practice (the create handler and the recovery timer)."""
        return self._locks.setdefault(uid, asyncio.Lock())

    # -- plumbing -----------------------------------------------------------
    async def _blocking(self, fn, *args):
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args))

    def backend(self, name: str) -> RunBackend:
        """The backend called ``name`` (created on first use); ValueError when unknown or unconfigured."""
        if name not in self._backends:
            if name not in self._factories:
                raise ValueError(
                    f"backend {name!r} is not enabled in this operator (enabled: {', '.join(sorted(self._factories))})"
                )
            self._backends[name] = self._factories[name]()
        return self._backends[name]

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _retry_delay(self, retry: int) -> float:
        return min(self.config.retry_delay * (2**retry), self.config.max_retry_delay)

    def _fail(self, body, patch, status, reason: str, message: str, generation: int) -> None:
        patch.status["phase"] = "Failed"
        patch.status["message"] = message
        patch.status["completionTime"] = now()
        patch.status["observedGeneration"] = generation
        patch.status["conditions"] = set_condition(
            patch.status.get("conditions") or status.get("conditions"),
            condition("Failed", True, reason, message, generation),
        )
        kopf.event(body, type="Warning", reason=reason, message=message)
        self.metrics.set_phase(body["metadata"]["uid"], "Failed")

    # -- create: submit --------------------------------------------------------
    async def on_create(self, body, meta, status, patch, retry: int, **_: Any) -> None:
        started = time.perf_counter()
        try:
            async with self._lock(meta["uid"]):
                await self._submit(body, meta, status, patch, retry)
        finally:
            self.metrics.reconcile_seconds.labels(handler="submit").observe(time.perf_counter() - started)

    async def _submit(self, body, meta, status, patch, retry: int) -> None:
        generation = int(meta.get("generation") or 1)
        uid = meta["uid"]
        if status.get("runId") or status.get("phase") in ("Succeeded", "Failed", "Cancelled"):
            return  # submitted or decided by an earlier incarnation of this handler
        errors = practice_errors(dict(body))
        if errors:
            self._fail(body, patch, status, "InvalidSpec", "; ".join(errors), generation)
            return
        try:
            request = PracticeRequest.from_body(body)
        except PracticeSpecError as exc:
            self._fail(body, patch, status, "InvalidSpec", str(exc), generation)
            return
        try:
            await self._blocking(
                functools.partial(self.catalog.check_base, ama=request.ama),
                request.deu,
                request.type,
                request.base_version,
            )
        except UnknownBaseError as exc:
            self._fail(body, patch, status, exc.reason, str(exc), generation)
            return
        except CatalogUnavailableError as exc:
            delay = self._retry_delay(retry)
            message = f"{exc}; retrying in {delay:g}s (attempt {retry + 1})"
            patch.status["phase"] = "Pending"
            patch.status["conditions"] = set_condition(
                status.get("conditions"), condition("Submitted", False, "RegistryUnavailable", message, generation)
            )
            self.metrics.set_phase(uid, "Pending")
            kopf.event(body, type="Warning", reason="RegistryUnavailable", message=message)
            raise kopf.TemporaryError(message, delay=delay) from None
        backend_name = request.backend or self.config.default_backend
        try:
            backend = self.backend(backend_name)
        except ValueError as exc:
            self._fail(body, patch, status, "BackendNotConfigured", str(exc), generation)
            return
        try:
            run = await self._blocking(backend.submit, request)
        except BackendUnavailableError as exc:
            self.metrics.submit_errors.labels(backend=backend_name, kind="unavailable").inc()
            delay = self._retry_delay(retry)
            message = f"{exc}; retrying in {delay:g}s (attempt {retry + 1})"
            patch.status["phase"] = "Pending"
            patch.status["backend"] = backend_name
            patch.status["conditions"] = set_condition(
                status.get("conditions"), condition("Submitted", False, "BackendUnavailable", message, generation)
            )
            self.metrics.set_phase(uid, "Pending")
            kopf.event(body, type="Warning", reason="BackendUnavailable", message=message)
            raise kopf.TemporaryError(message, delay=delay) from None
        except SubmitRejectedError as exc:
            self.metrics.submit_errors.labels(backend=backend_name, kind="rejected").inc()
            self._fail(body, patch, status, "SubmitRejected", str(exc), generation)
            return
        self.metrics.runs_submitted.labels(backend=backend_name).inc()
        phase = "Running" if run.state is RunState.RUNNING else "Pending"
        patch.status.update(
            {
                "phase": phase,
                "backend": backend_name,
                "runId": run.run_id,
                "runName": request.run_name,
                "startTime": now(),
                "observedGeneration": generation,
                "message": f"{backend_name} run {run.run_id} submitted",
                "conditions": set_condition(
                    status.get("conditions"),
                    condition("Submitted", True, "RunSubmitted", f"{backend_name} run {run.run_id}", generation),
                ),
            }
        )
        self.metrics.set_phase(uid, phase)
        kopf.event(
            body, type="Normal", reason="Submitted", message=f"{backend_name} run {run.run_id} ({request.run_name})"
        )
        if run.state.finished:  # adopted a run that finished while no operator was watching
            await self._apply_run(body, request, {**status, **patch.status}, patch, run)

    # -- timer: follow the run ----------------------------------------------
    async def on_timer(self, body, meta, status, patch, memo, **_: Any) -> None:
        clock = time.monotonic()
        if memo.get("next_poll", 0.0) > clock:
            return
        started = time.perf_counter()
        try:
            if status.get("runId"):
                await self._follow(body, status, patch, memo, clock)
            else:
                await self._recover(body, meta, status, patch, memo, clock)
        finally:
            self.metrics.reconcile_seconds.labels(handler="follow").observe(time.perf_counter() - started)

    async def _recover(self, body, meta, status, patch, memo, clock: float) -> None:
        """Submit (or adopt) for a Practice whose create handler is recorded as done but whose
        status never got the run: kopf writes its annotations and the status in two requests,
        and an operator stopped between them leaves exactly that. Waits a grace period first,
        so a create handler still in progress is not raced; the per-uid lock and the backend's
        lookup by run name keep it from ever submitting twice."""
        first_seen = memo.setdefault("unrecorded_since", clock)
        if clock - first_seen < self._recovery_grace:
            return
        retry = memo.get("recover_retry", 0)
        try:
            async with self._lock(meta["uid"]):
                await self._submit(body, meta, status, patch, retry)
        except kopf.TemporaryError as exc:
            memo["recover_retry"] = retry + 1
            memo["next_poll"] = clock + (exc.delay or self.config.retry_delay)

    @property
    def _recovery_grace(self) -> float:
        return max(3 * self.config.poll_interval, 1.0)

    async def _follow(self, body, status, patch, memo, clock: float) -> None:
        reject_spec_change(body, status, patch)
        delay = memo.get("delay", self.config.poll_interval)
        request = PracticeRequest.from_body(body)
        try:
            backend = self.backend(status.get("backend") or self.config.default_backend)
            run = await self._blocking(backend.status, request, status["runId"])
        except BackendUnavailableError as exc:
            memo["delay"] = min(max(delay, self.config.retry_delay) * 2, self.config.max_retry_delay)
            memo["next_poll"] = clock + memo["delay"]
            _log.warning("%s: %s; next poll in %gs", request.ref, exc, memo["delay"])
            return
        except RunNotFoundError as exc:
            self._fail(body, patch, status, "RunLost", str(exc), int(status.get("observedGeneration") or 1))
            return
        if run.state.value == status.get("phase") and not run.state.finished:
            memo["delay"] = min(delay * 2, self.config.max_poll_interval)
            memo["next_poll"] = clock + memo["delay"]
            return
        memo["delay"] = self.config.poll_interval
        memo["next_poll"] = clock + memo["delay"]
        await self._apply_run(body, request, status, patch, run)

    async def _apply_run(self, body, request: PracticeRequest, status, patch, run: RunStatus) -> None:
        generation = int(status.get("observedGeneration") or request.generation)
        conditions = patch.status.get("conditions") or status.get("conditions")
        uid = request.uid
        if run.state is RunState.RUNNING:
            patch.status["phase"] = "Running"
            patch.status["conditions"] = set_condition(
                conditions, condition("Running", True, "RunRunning", run.run_id, generation)
            )
            self.metrics.set_phase(uid, "Running")
            kopf.event(body, type="Normal", reason="Running", message=f"run {run.run_id} is running")
        elif run.state is RunState.SUCCEEDED:
            try:
                published = await self._blocking(
                    functools.partial(self.catalog.published_by, ama=request.ama), request.deu, uid
                )
            except CatalogUnavailableError as exc:  # the run's result stays unread; the next poll tries again
                _log.warning("%s: run %s succeeded; %s", request.ref, run.run_id, exc)
                kopf.event(body, type="Warning", reason="RegistryUnavailable", message=str(exc))
                return
            if published is None:
                message = (
                    f"run {run.run_id} succeeded but published no version of {request.deu!r} "
                    "(evaluation gates not passed?)"
                )
                self._fail(body, patch, status, "NoVersionPublished", message, generation)
                return
            message = f"deu {request.deu!r} version {published.version}"
            patch.status.update(
                {
                    "phase": "Succeeded",
                    "version": published.version,
                    "metrics": dict(published.metrics),
                    "completionTime": now(),
                    "message": message,
                    "conditions": set_condition(
                        set_condition(conditions, condition("Running", False, "RunFinished", run.run_id, generation)),
                        condition("Succeeded", True, "VersionPublished", message, generation),
                    ),
                }
            )
            self.metrics.set_phase(uid, "Succeeded")
            kopf.event(body, type="Normal", reason="Succeeded", message=message)
        elif run.state is RunState.FAILED:
            self._fail(
                body, patch, status, "RunFailed", f"run {run.run_id} failed: {run.message or 'no message'}", generation
            )
        elif run.state is RunState.CANCELLED:
            patch.status["phase"] = "Cancelled"
            patch.status["completionTime"] = now()
            patch.status["conditions"] = set_condition(
                conditions, condition("Cancelled", True, "RunCancelled", f"run {run.run_id} was cancelled", generation)
            )
            self.metrics.set_phase(uid, "Cancelled")
            kopf.event(
                body, type="Warning", reason="Cancelled", message=f"run {run.run_id} was cancelled outside the operator"
            )

    # -- delete: cancel ------------------------------------------------------
    async def on_delete(self, body, meta, status, retry: int, **_: Any) -> None:
        started = time.perf_counter()
        try:
            if status.get("runId") and status.get("phase") in _ACTIVE:
                request = PracticeRequest.from_body(body)
                backend = self.backend(status.get("backend") or self.config.default_backend)
                try:
                    await self._blocking(backend.cancel, request, status["runId"])
                except BackendUnavailableError as exc:
                    raise kopf.TemporaryError(
                        f"cancelling run {status['runId']}: {exc}", delay=self._retry_delay(retry)
                    ) from None
                _log.info("cancelled run %s of %s/%s", status["runId"], meta.get("namespace"), meta.get("name"))
            self.metrics.set_phase(meta["uid"], None)
            self._locks.pop(meta["uid"], None)
        finally:
            self.metrics.reconcile_seconds.labels(handler="cancel").observe(time.perf_counter() - started)

    # -- spec change -----------------------------------------------------------
    async def on_spec_change(self, body, meta, status, patch, **_: Any) -> None:
        message = reject_spec_change(body, status, patch)
        if message:
            kopf.event(body, type="Warning", reason="SpecChangeRejected", message=message)

    async def on_resume(self, meta, status, **_: Any) -> None:
        if status.get("phase"):
            self.metrics.set_phase(meta["uid"], status["phase"])

    # -- registry --------------------------------------------------------------
    def registry(self) -> kopf.OperatorRegistry:
        """A kopf registry with this operator's handlers (no login handlers)."""
        registry = kopf.OperatorRegistry()
        resource = (GROUP, VERSION, PLURAL)
        kopf.on.create(*resource, id="submit", registry=registry, retries=None, backoff=self.config.retry_delay)(
            self.on_create
        )
        kopf.on.resume(*resource, id="resume", registry=registry)(self.on_resume)
        kopf.on.update(*resource, id="spec-change", field="spec", registry=registry)(self.on_spec_change)
        kopf.on.delete(*resource, id="cancel", registry=registry, retries=None, backoff=self.config.retry_delay)(
            self.on_delete
        )
        kopf.timer(
            *resource,
            id="follow",
            registry=registry,
            interval=self.config.poll_interval,
            when=lambda status, **_: not status.get("phase") or status.get("phase") in _ACTIVE,
        )(self.on_timer)
        return registry
