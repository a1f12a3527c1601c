"""The Practice operator: kopf handlers that turn Practice resources into practice runs.

Backends: Kubeflow Pipelines (:class:`KfpBackend`, through ``kfp.Client``) or
plain Kubernetes Jobs (:class:`JobBackend`). Run it with ``amadeus operator run``
or :func:`run_operator`. See ``docs/operator.md``.

Submodules import kopf, kfp and kubernetes; this package imports them lazily.
"""

from __future__ import annotations

import importlib

__all__ = [
    "BackendUnavailableError",
    "CatalogUnavailableError",
    "InvalidPracticeError",
    "JobBackend",
    "KfpBackend",
    "OperatorConfig",
    "OperatorMetrics",
    "PipelineSubmitter",
    "PracticeOperator",
    "PracticeRequest",
    "RegistryCatalog",
    "RunState",
    "RunStatus",
    "StoreCatalog",
    "SubmitRejectedError",
    "UnknownBaseError",
    "build_operator",
    "catalog_for",
    "registry_uri_for",
    "run_operator",
    "validate_practice",
]

_WHERE = {
    "BackendUnavailableError": "backend",
    "SubmitRejectedError": "backend",
    "RunState": "backend",
    "RunStatus": "backend",
    "InvalidPracticeError": "validation",
    "validate_practice": "validation",
    "JobBackend": "job_backend",
    "KfpBackend": "kfp_backend",
    "PipelineSubmitter": "kfp_backend",
    "OperatorConfig": "config",
    "OperatorMetrics": "metrics",
    "PracticeOperator": "handlers",
    "PracticeRequest": "practice",
    "StoreCatalog": "catalog",
    "CatalogUnavailableError": "catalog",
    "RegistryCatalog": "registry_catalog",
    "catalog_for": "registry_catalog",
    "registry_uri_for": "registry_catalog",
    "UnknownBaseError": "catalog",
    "build_operator": "runner",
    "run_operator": "runner",
}


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
