"""The cluster backend's Kubernetes API calls: logging in, and failures as studio errors.

Unreachable API or 5xx / 429 → UNAVAILABLE (naming the API server), 401/403 →
UNAVAILABLE (the studio's own credentials or RBAC), 400/422 → INVALID_ARGUMENT;
404 and 409 become :class:`KubeNotFound` / :class:`KubeConflict` for the caller
to decide (a missing Practice is NOT_FOUND, a missing namespace FAILED_PRECONDITION).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from studio_operator.server.errors import InvalidRequestError, StudioError, UnavailableError

__all__ = ["KubeCalls", "KubeConflict", "KubeNotFound", "kube_api_client"]


class KubeNotFound(Exception):
    """HTTP 404 from the API server."""


class KubeConflict(Exception):
    """HTTP 409 from the API server (the object exists)."""


def kube_api_client(kubeconfig: str | Path | None = None) -> Any:
    """A ``kubernetes.client.ApiClient`` from ``kubeconfig``, else the pod's service account,
    else ``$KUBECONFIG`` / ``~/.kube/config``. Raises ValueError naming what was tried."""
    from kubernetes import client, config

    configuration = client.Configuration()
    loaded = False
    if kubeconfig is None:
        with contextlib.suppress(config.ConfigException):
            config.load_incluster_config(client_configuration=configuration)
            loaded = True
    if not loaded:
        try:
            config.load_kube_config(
                config_file=str(kubeconfig) if kubeconfig else None, client_configuration=configuration
            )
        except (config.ConfigException, OSError) as exc:
            where = kubeconfig or "in-cluster service account nor $KUBECONFIG / ~/.kube/config"
            raise ValueError(f"cluster backend: cannot log in to Kubernetes with {where}: {exc}") from None
    configuration.retries = 1  # fail fast; the caller answers UNAVAILABLE and the client retries
    return client.ApiClient(configuration)


def _api_message(exc: Any) -> str:
    try:
        return json.loads(exc.body).get("message") or exc.reason
    except (TypeError, ValueError, AttributeError):
        return str(exc.reason or exc)


class KubeCalls:
    """Runs API calls against one API server (``api_host`` names it in errors).

    Args:
        api_host: the API server's URL.
        request_timeout: read timeout of one call, seconds (connect: 5 s).
    """

    def __init__(self, api_host: str, request_timeout: float):
        self.api_host = api_host
        self.request_timeout = request_timeout

    def __call__(
        self,
        what: str,
        call: Callable[..., Any],
        *args: Any,
        request_timeout: tuple[float, float] | None = None,
        **kwargs: Any,
    ) -> Any:
        """``call(*args, **kwargs)``; failures as studio errors (404 → KubeNotFound, 409 → KubeConflict).

        ``what`` says what was asked in words (``"create Practice ns/name"``).
        """
        import urllib3
        from kubernetes.client.exceptions import ApiException

        try:
            return call(*args, _request_timeout=request_timeout or (5.0, self.request_timeout), **kwargs)
        except ApiException as exc:
            message = _api_message(exc)
            if exc.status == 404:
                raise KubeNotFound(message) from None
            if exc.status == 409:
                raise KubeConflict(message) from None
            if exc.status in (400, 422):
                raise InvalidRequestError(f"the Kubernetes API rejected {what}: {message}") from None
            if exc.status in (401, 403):
                raise UnavailableError(
                    f"the studio may not {what} (HTTP {exc.status} from {self.api_host}: {message}); "
                    "its service account needs the amadeus-studio role in that namespace"
                ) from None
            if exc.status == 0 or exc.status >= 500 or exc.status == 429:
                raise UnavailableError(
                    f"the Kubernetes API at {self.api_host} is failing ({what}: HTTP {exc.status} {message})"
                ) from None
            raise StudioError(f"{what}: HTTP {exc.status} from {self.api_host}: {message}") from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise UnavailableError(f"the Kubernetes API at {self.api_host} is unreachable ({what}): {reason}") from None
