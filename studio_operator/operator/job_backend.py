"""The Job backend: a practice as a plain Kubernetes Job running ``amadeus practice …``.

For clusters without Kubeflow Pipelines. The Job is named from the Practice
uid (:func:`run_name_for`), owned by the Practice, and created at most once:
an existing Job of that name is adopted instead of created again.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from studio_operator.crd import GROUP, KIND, VERSION
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

__all__ = ["JobBackend", "job_manifest", "practice_command"]

_log = logging.getLogger(__name__)


def _region(start: float, end: float) -> str:
    return f"{start:g}-{end:g}"


def practice_command(request: PracticeRequest) -> list[str]:
    """The ``amadeus practice`` command line that runs ``request`` in the studio image."""
    args = ["amadeus", "practice", request.type, "--deu", request.deu, "--practice-id", request.uid, "--runner", "job"]
    for uri in request.audio:
        args += ["--audio", uri]
    if request.base_version:
        args += ["--base-version", str(request.base_version)]
    if request.learner_profile:
        args += ["--learner-profile", json.dumps(request.learner_profile, sort_keys=True)]
    if request.player_profile:
        args += ["--player-profile", json.dumps(request.player_profile, sort_keys=True)]
    if request.performance:
        args += ["--performance", request.performance]
    for start, end, label in request.regions:
        args += [f"--{label}", _region(start, end)]
    if request.type == "feedback":
        args += ["--method", request.feedback_method]
        if request.finetune_steps:
            args += ["--finetune-steps", str(request.finetune_steps)]
    return args


def job_manifest(request: PracticeRequest, config: OperatorConfig) -> dict[str, Any]:
    """The ``batch/v1`` Job for ``request``: GPU limits, node selector, tolerations, non-root."""
    resources: dict[str, dict[str, Any]] = {"requests": {}, "limits": {}}
    if request.cpu:
        resources["requests"]["cpu"] = request.cpu
    if request.memory:
        resources["requests"]["memory"] = request.memory
        resources["limits"]["memory"] = request.memory
    if request.gpu.count:
        resources["limits"][request.gpu.type] = request.gpu.count
    env = [
        {"name": "AMADEUS_REGISTRY_URI", "value": registry_uri_for(config.registry_uri, request.ama)},
        {"name": "AMADEUS_MLFLOW_TRACKING_URI", "value": config.mlflow_tracking_uri},
        {"name": "AMADEUS_S3_ENDPOINT", "value": config.s3_endpoint},
        {"name": "AMADEUS_HOME", "value": "/tmp/amadeus"},
        {"name": "HOME", "value": "/tmp"},
    ]
    container: dict[str, Any] = {
        "name": "practice",
        "image": config.image,
        "command": practice_command(request),
        "env": env,
        "resources": {k: v for k, v in resources.items() if v},
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [{"name": "scratch", "mountPath": "/tmp"}],
    }
    if config.s3_secret:
        container["envFrom"] = [{"secretRef": {"name": config.s3_secret}}]
    pod_spec: dict[str, Any] = {
        "restartPolicy": "Never",
        "securityContext": {"runAsNonRoot": True, "runAsUser": 10001, "fsGroup": 10001},
        "containers": [container],
        "volumes": [{"name": "scratch", "emptyDir": {}}],
    }
    if config.job_service_account:
        pod_spec["serviceAccountName"] = config.job_service_account
    if request.node_selector:
        pod_spec["nodeSelector"] = dict(request.node_selector)
    if request.tolerations:
        pod_spec["tolerations"] = [dict(t) for t in request.tolerations]
    labels = {
        "app.kubernetes.io/name": "amadeus-practice",
        "app.kubernetes.io/managed-by": "amadeus-operator",
        f"{GROUP}/practice": request.name,
        f"{GROUP}/deu": request.deu,
    }
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": request.run_name,
            "namespace": request.namespace,
            "labels": labels,
            "ownerReferences": [
                {
                    "apiVersion": f"{GROUP}/{VERSION}",
                    "kind": KIND,
                    "name": request.name,
                    "uid": request.uid,
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": {
            "backoffLimit": config.job_backoff_limit,
            "template": {"metadata": {"labels": labels}, "spec": pod_spec},
        },
    }


def _job_status(job: dict[str, Any]) -> RunStatus:
    name = job.get("metadata", {}).get("name", "")
    status = job.get("status") or {}
    for condition in status.get("conditions") or ():
        if condition.get("status") != "True":
            continue
        if condition.get("type") in ("Complete", "SuccessCriteriaMet"):
            return RunStatus(name, RunState.SUCCEEDED, condition.get("message", ""))
        if condition.get("type") in ("Failed", "FailureTarget"):
            return RunStatus(name, RunState.FAILED, condition.get("message") or condition.get("reason", ""))
    if status.get("succeeded"):
        return RunStatus(name, RunState.SUCCEEDED)
    if status.get("active"):
        return RunStatus(name, RunState.RUNNING)
    return RunStatus(name, RunState.PENDING)


class JobBackend:
    """Practices as ``batch/v1`` Jobs through the official ``kubernetes`` client.

    Args:
        config: image, registry settings, service account.
        api_client: a ``kubernetes.client.ApiClient`` for the cluster the Practices live in.
    """

    name = "job"

    def __init__(self, config: OperatorConfig, api_client):
        from kubernetes import client

        self.config = config
        self._batch = client.BatchV1Api(api_client)
        self._api_client = api_client

    def _call(self, what: str, fn, *args, **kwargs):
        from kubernetes.client.exceptions import ApiException

        try:
            return fn(*args, **kwargs)
        except ApiException as exc:
            if exc.status == 404:
                raise RunNotFoundError(f"{what}: not found") from None
            if exc.status == 409:
                raise
            if 400 <= exc.status < 500:
                raise SubmitRejectedError(
                    f"{what}: Kubernetes API answered {exc.status} {exc.reason}: {exc.body}"
                ) from None
            raise BackendUnavailableError(f"{what}: Kubernetes API answered {exc.status} {exc.reason}") from None
        except Exception as exc:  # urllib3 transport errors
            raise BackendUnavailableError(f"{what}: Kubernetes API unreachable ({type(exc).__name__}: {exc})") from exc

    def _read(self, namespace: str, name: str) -> dict[str, Any]:
        response = self._call(
            f"reading Job {namespace}/{name}",
            self._batch.read_namespaced_job,
            name,
            namespace,
            _preload_content=False,
        )
        return json.loads(response.data)

    def submit(self, request: PracticeRequest) -> RunStatus:
        from kubernetes.client.exceptions import ApiException

        try:
            existing = self._read(request.namespace, request.run_name)
        except RunNotFoundError:
            existing = None
        if existing is not None:
            _log.info("Job %s/%s exists; not creating it again", request.namespace, request.run_name)
            return _job_status(existing)
        manifest = job_manifest(request, self.config)
        try:
            response = self._call(
                f"creating Job {request.namespace}/{request.run_name}",
                self._batch.create_namespaced_job,
                request.namespace,
                manifest,
                _preload_content=False,
            )
        except ApiException as exc:  # 409: created by a concurrent attempt in the meantime
            if exc.status != 409:
                raise
            return _job_status(self._read(request.namespace, request.run_name))
        return _job_status(json.loads(response.data))

    def status(self, request: PracticeRequest, run_id: str) -> RunStatus:
        return _job_status(self._read(request.namespace, run_id))

    def cancel(self, request: PracticeRequest, run_id: str) -> None:
        try:
            self._call(
                f"deleting Job {request.namespace}/{run_id}",
                self._batch.delete_namespaced_job,
                run_id,
                request.namespace,
                propagation_policy="Background",
                _preload_content=False,
            )
        except RunNotFoundError:
            pass
