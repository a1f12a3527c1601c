"""Operator configuration: from the environment (the chart's ConfigMap and Secrets) or code."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace

__all__ = ["ConfigError", "OperatorConfig"]


class ConfigError(ValueError):
    """An environment variable of the operator has an unusable value."""


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r}: expected a number of seconds") from None
    if value <= 0:
        raise ConfigError(f"{name}={raw!r}: must be positive")
    return value


@dataclass(frozen=True)
class OperatorConfig:
    """Everything the operator needs besides the Kubernetes connection.

    Environment variables (all optional) are named in each field's comment.
    Durations are in seconds.
    """

    default_backend: str = "kfp"  # AMADEUS_BACKEND: kfp | job (a Practice's spec.backend wins)
    kfp_host: str | None = None  # AMADEUS_KFP_HOST, e.g. http://ml-pipeline.kubeflow:8888
    kfp_namespace: str | None = None  # AMADEUS_KFP_NAMESPACE (multi-user KFP only)
    kfp_experiment: str = "amadeus"  # AMADEUS_KFP_EXPERIMENT
    kfp_existing_token: str | None = field(default=None, repr=False)  # AMADEUS_KFP_TOKEN
    image: str = "ghcr.io/amadeus/studio:latest"  # AMADEUS_IMAGE: the studio image for components and Jobs
    registry_uri: str = ""  # AMADEUS_REGISTRY_URI, e.g. s3://amadeus/personalities
    mlflow_tracking_uri: str = ""  # AMADEUS_MLFLOW_TRACKING_URI
    s3_endpoint: str = ""  # AMADEUS_S3_ENDPOINT, e.g. http://minio.minio:9000
    s3_secret: str = ""  # AMADEUS_S3_SECRET: Secret with AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY for Jobs
    store_home: str | None = None  # AMADEUS_HOME: the personality store checked for deu/versions
    job_service_account: str = ""  # AMADEUS_JOB_SERVICE_ACCOUNT
    job_backoff_limit: int = 2  # AMADEUS_JOB_BACKOFF_LIMIT
    poll_interval: float = 5.0  # AMADEUS_POLL_INTERVAL: first poll of a run's state
    max_poll_interval: float = 60.0  # AMADEUS_MAX_POLL_INTERVAL: backoff ceiling while nothing changes
    retry_delay: float = 5.0  # AMADEUS_RETRY_DELAY: first retry of an unreachable backend
    max_retry_delay: float = 300.0  # AMADEUS_MAX_RETRY_DELAY
    pipeline_cache_dir: str | None = None  # AMADEUS_PIPELINE_CACHE: compiled pipeline packages

    def __post_init__(self) -> None:
        if self.default_backend not in ("kfp", "job"):
            raise ConfigError(f"AMADEUS_BACKEND={self.default_backend!r}: expected 'kfp' or 'job'")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides) -> OperatorConfig:
        """Read the ``AMADEUS_*`` variables of ``env`` (default ``os.environ``)."""
        env = os.environ if env is None else env
        try:
            backoff_limit = int(env.get("AMADEUS_JOB_BACKOFF_LIMIT", "2"))
        except ValueError:
            raise ConfigError(
                f"AMADEUS_JOB_BACKOFF_LIMIT={env['AMADEUS_JOB_BACKOFF_LIMIT']!r}: expected an integer"
            ) from None
        config = cls(
            default_backend=env.get("AMADEUS_BACKEND", "kfp") or "kfp",
            kfp_host=env.get("AMADEUS_KFP_HOST") or None,
            kfp_namespace=env.get("AMADEUS_KFP_NAMESPACE") or None,
            kfp_experiment=env.get("AMADEUS_KFP_EXPERIMENT", "amadeus") or "amadeus",
            kfp_existing_token=env.get("AMADEUS_KFP_TOKEN") or None,
            image=env.get("AMADEUS_IMAGE", cls.image) or cls.image,
            registry_uri=env.get("AMADEUS_REGISTRY_URI", ""),
            mlflow_tracking_uri=env.get("AMADEUS_MLFLOW_TRACKING_URI", ""),
            s3_endpoint=env.get("AMADEUS_S3_ENDPOINT", ""),
            s3_secret=env.get("AMADEUS_S3_SECRET", ""),
            store_home=env.get("AMADEUS_HOME") or None,
            job_service_account=env.get("AMADEUS_JOB_SERVICE_ACCOUNT", ""),
            job_backoff_limit=backoff_limit,
            poll_interval=_float(env, "AMADEUS_POLL_INTERVAL", cls.poll_interval),
            max_poll_interval=_float(env, "AMADEUS_MAX_POLL_INTERVAL", cls.max_poll_interval),
            retry_delay=_float(env, "AMADEUS_RETRY_DELAY", cls.retry_delay),
            max_retry_delay=_float(env, "AMADEUS_MAX_RETRY_DELAY", cls.max_retry_delay),
            pipeline_cache_dir=env.get("AMADEUS_PIPELINE_CACHE") or None,
        )
        known = {f.name for f in fields(cls)}
        unknown = set(overrides) - known
        if unknown:
            raise TypeError(f"unknown OperatorConfig fields: {sorted(unknown)}")
        return replace(config, **overrides)
