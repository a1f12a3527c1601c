"""The Kubeflow Pipelines backend: compile the practice pipeline, submit it with ``kfp.Client``.

Idempotency: a run's display name is :func:`run_name_for` (the Practice uid);
``submit`` first lists the experiment's runs with that display name and
returns the existing one, so a restarted operator never submits twice.
"""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from studio_operator.operator.backend import (
    BackendUnavailableError,
    RunNotFoundError,
    RunState,
    RunStatus,
    SubmitRejectedError,
)
from studio_operator.operator.config import OperatorConfig
from studio_operator.operator.practice import PracticeRequest
from studio_operator.operator.registry_catalog import registry_uri_for

__all__ = ["CompileFn", "KfpBackend", "PipelineSubmitter", "compile_with_pipelines"]

_log = logging.getLogger(__name__)

#: ``compile(practice_type, package_path, *, image, accelerator_type, accelerator_limit,
#: node_selector, tolerations, cpu_request, memory_request) -> package_path`` (KFP IR YAML).
CompileFn = Callable[..., str]

_STATES = {
    "PENDING": RunState.PENDING,
    "RUNTIME_STATE_UNSPECIFIED": RunState.PENDING,
    "RUNNING": RunState.RUNNING,
    "PAUSED": RunState.RUNNING,
    "CANCELING": RunState.RUNNING,
    "SUCCEEDED": RunState.SUCCEEDED,
    "SKIPPED": RunState.SUCCEEDED,
    "FAILED": RunState.FAILED,
    "CANCELED": RunState.CANCELLED,
}


def compile_with_pipelines(practice_type: str, package_path: str, **settings: Any) -> str:
    """The production compiler: ``pipelines.kfp_pipelines.compile_practice_pipeline``."""
    try:
        from pipelines.kfp_pipelines import compile_practice_pipeline
    except ImportError as exc:
        raise SubmitRejectedError(f"the practice pipelines are not installed in the operator image ({exc})") from None
    return compile_practice_pipeline(practice_type, package_path, **settings)


def _unavailable_or_rejected(what: str, exc: BaseException) -> Exception:
    """Classify a kfp client exception: transport/5xx → retry, 4xx → reject."""
    status = getattr(exc, "status", None)
    if isinstance(status, int) and 400 <= status < 500:
        return SubmitRejectedError(
            f"{what}: KFP API answered {status} {getattr(exc, 'reason', '')}: {getattr(exc, 'body', '')}"
        )
    return BackendUnavailableError(f"{what}: KFP API unreachable or failing ({type(exc).__name__}: {exc})")


class PipelineSubmitter:
    """Submits compiled packages through the real ``kfp.Client`` (thread-safe).

    Args:
        host: the KFP API endpoint, e.g. ``http://ml-pipeline.kubeflow:8888``.
        experiment: the experiment every practice run goes into (created on first use).
        namespace: the KFP user namespace (multi-user installations only).
        existing_token: a bearer token for the KFP API, if it needs one.
    """

    def __init__(
        self, host: str, *, experiment: str = "amadeus", namespace: str | None = None, existing_token: str | None = None
    ):
        if not host:
            raise ValueError("PipelineSubmitter needs the KFP API endpoint (AMADEUS_KFP_HOST)")
        self.host = host
        self.experiment = experiment
        self.namespace = namespace
        self._token = existing_token
        self._client = None
        self._experiment_id: str | None = None
        self._lock = threading.Lock()
        self._experiment_lock = threading.Lock()

    def _probe(self) -> None:
        """One quick healthz call: ``kfp.Client()`` itself retries it 5 times over ~25 s."""
        request = urllib.request.Request(f"{self.host.rstrip('/')}/apis/v2beta1/healthz")
        if self._token:
            request.add_header("Authorization", f"Bearer {self._token}")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                response.read()
        except urllib.error.HTTPError as exc:
            if exc.code >= 500 or exc.code in (408, 429):
                raise BackendUnavailableError(f"KFP API at {self.host} answered {exc.code} {exc.reason}") from None
            raise SubmitRejectedError(f"KFP API at {self.host} answered {exc.code} {exc.reason}") from None
        except OSError as exc:
            raise BackendUnavailableError(f"KFP API at {self.host} unreachable ({exc})") from None

    def _kfp(self):
        with self._lock:
            if self._client is None:
                import warnings

                import kfp

                self._probe()

                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore", FutureWarning)
                        self._client = kfp.Client(
                            host=self.host, namespace=self.namespace or "kubeflow", existing_token=self._token
                        )
                except Exception as exc:  # the constructor asks the API's healthz
                    raise _unavailable_or_rejected("connecting", exc) from exc
            return self._client

    def experiment_id(self) -> str:
        with self._experiment_lock:  # concurrent first submissions must not create it twice
            return self._resolve_experiment()

    def _resolve_experiment(self) -> str:
        if self._experiment_id is None:
            client = self._kfp()
            flt = json.dumps(
                {"predicates": [{"operation": "EQUALS", "key": "display_name", "stringValue": self.experiment}]}
            )
            try:
                found = client.list_experiments(filter=flt, namespace=self.namespace, page_size=1).experiments
                experiment = found[0] if found else client.create_experiment(self.experiment, namespace=self.namespace)
            except (BackendUnavailableError, SubmitRejectedError):
                raise
            except Exception as exc:
                raise _unavailable_or_rejected(f"experiment {self.experiment!r}", exc) from exc
            self._experiment_id = experiment.experiment_id
        return self._experiment_id

    def find_run(self, run_name: str) -> RunStatus | None:
        """The run whose display name is ``run_name`` (the oldest if several), or None."""
        client = self._kfp()
        experiment_id = self.experiment_id()
        flt = json.dumps({"predicates": [{"operation": "EQUALS", "key": "display_name", "stringValue": run_name}]})
        try:
            runs = client.list_runs(experiment_id=experiment_id, filter=flt, page_size=10, sort_by="created_at").runs
        except Exception as exc:
            raise _unavailable_or_rejected(f"looking up run {run_name}", exc) from exc
        return _status(runs[0]) if runs else None

    def submit(self, run_name: str, package_path: str, params: dict[str, Any]) -> RunStatus:
        client = self._kfp()
        experiment_id = self.experiment_id()
        try:
            run = client.run_pipeline(
                experiment_id=experiment_id, job_name=run_name, pipeline_package_path=package_path, params=params
            )
        except Exception as exc:
            raise _unavailable_or_rejected(f"submitting {run_name}", exc) from exc
        return _status(run)

    def get(self, run_id: str) -> RunStatus:
        client = self._kfp()
        try:
            return _status(client.get_run(run_id))
        except Exception as exc:
            if getattr(exc, "status", None) == 404:
                raise RunNotFoundError(f"KFP run {run_id} no longer exists") from None
            raise _unavailable_or_rejected(f"reading run {run_id}", exc) from exc

    def terminate(self, run_id: str) -> None:
        client = self._kfp()
        try:
            client.terminate_run(run_id)
        except Exception as exc:
            if getattr(exc, "status", None) == 404:
                return  # already gone: nothing to cancel
            raise _unavailable_or_rejected(f"terminating run {run_id}", exc) from exc


def _status(run) -> RunStatus:
    state = getattr(run, "state", None) or "PENDING"
    message = ""
    error = getattr(run, "error", None)
    if error is not None and getattr(error, "message", None):
        message = error.message
    return RunStatus(run_id=run.run_id, state=_STATES.get(str(state), RunState.PENDING), message=message)


class KfpBackend:
    """Practices as Kubeflow Pipelines runs.

    Args:
        config: endpoints, image and registry settings.
        compile_fn: compiles the practice pipeline (default: :func:`compile_with_pipelines`).
        submitter: the KFP API boundary (default: a :class:`PipelineSubmitter` on ``config.kfp_host``).
    """

    name = "kfp"

    def __init__(
        self, config: OperatorConfig, *, compile_fn: CompileFn | None = None, submitter: PipelineSubmitter | None = None
    ):
        self.config = config
        self._compile = compile_fn or compile_with_pipelines
        if submitter is None:
            if not config.kfp_host:
                raise ValueError("the kfp backend needs AMADEUS_KFP_HOST (or choose AMADEUS_BACKEND=job)")
            submitter = PipelineSubmitter(
                config.kfp_host,
                experiment=config.kfp_experiment,
                namespace=config.kfp_namespace,
                existing_token=config.kfp_existing_token,
            )
        self.submitter = submitter
        self._cache_dir = Path(config.pipeline_cache_dir or tempfile.mkdtemp(prefix="amadeus-pipelines-"))
        self._compile_lock = threading.Lock()

    def _settings(self, request: PracticeRequest) -> dict[str, Any]:
        return {
            "image": self.config.image,
            "accelerator_type": request.gpu.type if request.gpu.count else "",
            "accelerator_limit": request.gpu.count,
            "node_selector": dict(sorted(request.node_selector.items())),
            "tolerations": [dict(t) for t in request.tolerations],
            "cpu_request": request.cpu,
            "memory_request": request.memory,
        }

    def package_for(self, request: PracticeRequest) -> str:
        """The compiled pipeline for this practice's type and resources (cached on disk)."""
        settings = self._settings(request)
        key = hashlib.sha256(json.dumps([request.type, settings], sort_keys=True).encode()).hexdigest()[:16]
        path = self._cache_dir / f"{request.type}-{key}.yaml"
        with self._compile_lock:
            if not path.exists():
                self._cache_dir.mkdir(parents=True, exist_ok=True)
                partial = path.with_suffix(".partial.yaml")
                try:
                    self._compile(request.type, str(partial), **settings)
                except (SubmitRejectedError, BackendUnavailableError):
                    raise
                except Exception as exc:
                    raise SubmitRejectedError(f"the {request.type} pipeline does not compile: {exc}") from exc
                partial.replace(path)
        return str(path)

    def submit(self, request: PracticeRequest) -> RunStatus:
        existing = self.submitter.find_run(request.run_name)
        if existing is not None:
            _log.info(
                "run %s of %s exists (%s); not submitting again", existing.run_id, request.ref, existing.state.value
            )
            return existing
        params = request.pipeline_parameters(
            registry_uri=registry_uri_for(self.config.registry_uri, request.ama),
            mlflow_tracking_uri=self.config.mlflow_tracking_uri,
        )
        return self.submitter.submit(request.run_name, self.package_for(request), params)

    def status(self, request: PracticeRequest, run_id: str) -> RunStatus:
        return self.submitter.get(run_id)

    def cancel(self, request: PracticeRequest, run_id: str) -> None:
        self.submitter.terminate(run_id)
