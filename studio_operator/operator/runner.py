"""Run the Practice operator: cluster login, kopf settings, metrics endpoint.

The Kubernetes connection comes from a kubeconfig file (``--kubeconfig``,
``$KUBECONFIG``, ``~/.kube/config``) or, inside a pod, from the service
account. The same connection serves kopf and the Job backend.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import kopf

from studio_operator.crd import GROUP
from studio_operator.operator.backend import RunBackend
from studio_operator.operator.catalog import Catalog
from studio_operator.operator.config import OperatorConfig
from studio_operator.operator.handlers import PracticeOperator
from studio_operator.operator.metrics import OperatorMetrics
from studio_operator.operator.registry_catalog import catalog_for

__all__ = ["ClusterLoginError", "build_operator", "kube_configuration", "operator_settings", "run_operator"]

_log = logging.getLogger(__name__)


class ClusterLoginError(RuntimeError):
    """Neither the given kubeconfig nor an in-cluster service account could be loaded."""


def kube_configuration(kubeconfig: str | None = None, context: str | None = None):
    """A ``kubernetes.client.Configuration`` from ``kubeconfig`` or the pod's service account."""
    import yaml
    from kubernetes import client, config

    configuration = client.Configuration()
    if kubeconfig is None:
        try:
            config.load_incluster_config(client_configuration=configuration)
            return configuration
        except config.ConfigException:
            pass
    try:
        config.load_kube_config(config_file=kubeconfig, context=context, client_configuration=configuration)
    except (config.ConfigException, OSError, ValueError, yaml.YAMLError) as exc:
        where = kubeconfig or "$KUBECONFIG / ~/.kube/config"
        raise ClusterLoginError(f"cannot log in to Kubernetes with {where} nor in-cluster: {exc}") from None
    return configuration


def _connection_info(configuration, settings: kopf.OperatorSettings) -> kopf.ConnectionInfo:
    header = configuration.get_api_key_with_prefix("BearerToken") or configuration.get_api_key_with_prefix(
        "authorization"
    )
    scheme, _, token = header.partition(" ") if header else (None, "", None)
    if header and not token:
        scheme, token = None, header
    return kopf.ConnectionInfo(
        server=configuration.host,
        ca_path=configuration.ssl_ca_cert,
        insecure=not configuration.verify_ssl,
        username=configuration.username or None,
        password=configuration.password or None,
        scheme=scheme or None,
        token=token or None,
        certificate_path=configuration.cert_file,
        private_key_path=configuration.key_file,
        trust_env=settings.networking.trust_env,
    )


def operator_settings(config: OperatorConfig) -> kopf.OperatorSettings:
    """kopf settings: our own annotations/finalizer, no CRD/namespace scanning, warnings as Events."""
    settings = kopf.OperatorSettings()
    settings.persistence.finalizer = f"{GROUP}/practice-run"
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=GROUP)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=GROUP, key="last-handled-configuration"
    )
    settings.scanning.disabled = True  # the namespaces are given; no cluster-wide CRD/namespace list rights needed
    settings.posting.level = logging.WARNING  # handler logs become Events only from warnings up
    settings.watching.server_timeout = 300
    settings.networking.request_timeout = 30
    return settings


def build_operator(
    config: OperatorConfig,
    configuration,
    *,
    catalog: Catalog | None = None,
    backends: Mapping[str, Callable[[], RunBackend]] | None = None,
    metrics: OperatorMetrics | None = None,
) -> PracticeOperator:
    """The :class:`PracticeOperator` with the production backends (KFP via ``config.kfp_host``, Jobs)."""
    if backends is None:
        from kubernetes import client

        def kfp_backend() -> RunBackend:
            from studio_operator.operator.kfp_backend import KfpBackend

            return KfpBackend(config)

        def job_backend() -> RunBackend:
            from studio_operator.operator.job_backend import JobBackend

            return JobBackend(config, client.ApiClient(configuration))

        backends = {"kfp": kfp_backend, "job": job_backend}
    return PracticeOperator(
        config,
        catalog=catalog if catalog is not None else catalog_for(config),
        backends=backends,
        metrics=metrics,
    )


async def run_operator(
    config: OperatorConfig,
    *,
    kubeconfig: str | None = None,
    configuration=None,
    namespaces: Sequence[str] = (),
    operator: PracticeOperator | None = None,
    metrics_port: int | None = None,
    stop_flag: asyncio.Event | threading.Event | None = None,
    ready_flag: asyncio.Event | threading.Event | None = None,
    **kopf_kwargs: Any,
) -> None:
    """Run until ``stop_flag`` is set (or the process is signalled).

    Args:
        namespaces: watch these namespaces; empty = the whole cluster.
        configuration: a ``kubernetes.client.Configuration`` (else loaded from ``kubeconfig``).
        operator: a prepared :class:`PracticeOperator` (else :func:`build_operator`).
        metrics_port: serve Prometheus ``/metrics`` there.
    """
    if configuration is None:
        configuration = kube_configuration(kubeconfig)
    if operator is None:
        operator = build_operator(config, configuration)
    settings = operator_settings(config)
    registry = operator.registry()

    @kopf.on.login(registry=registry)
    def _login(**_: Any) -> kopf.ConnectionInfo:
        return _connection_info(configuration, settings)

    server = operator.metrics.serve(metrics_port) if metrics_port else None
    try:
        await kopf.operator(
            registry=registry,
            settings=settings,
            standalone=True,
            clusterwide=not namespaces,
            namespaces=list(namespaces),
            stop_flag=stop_flag,
            ready_flag=ready_flag,
            **kopf_kwargs,
        )
    finally:
        if server is not None:
            server.shutdown()
        operator.close()
