"""The one S3 / MinIO client factory: a ``minio.Minio`` and the single retry policy around its calls.

The HTTP pool retries nothing itself; :meth:`S3Connection.call` retries transport
errors, 5xx answers and S3's transient error codes with exponential backoff
(:class:`~pipelines.registry._retry.Backoff`), then raises
:class:`~pipelines.registry.errors.RegistryUnavailableError` naming the endpoint
and the attempts. Retrying inside urllib3 as well would multiply the attempts and
hide the endpoint behind a urllib3 ``MaxRetryError``.

The personality registry (:class:`~pipelines.registry.s3.S3Registry`) and the
studio's cluster object store both connect through here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import urlparse

from ._retry import Backoff, with_backoff
from .errors import RegistryConfigError

if TYPE_CHECKING:
    from minio import Minio

__all__ = ["TRANSIENT_S3_CODES", "S3Connection", "s3_endpoint_url"]

T = TypeVar("T")

TRANSIENT_S3_CODES = frozenset({"InternalError", "ServiceUnavailable", "SlowDown", "RequestTimeout"})
"""S3 error codes worth another attempt (the server said: later)."""


def s3_endpoint_url(endpoint: str, *, secure: bool = False) -> str:
    """``scheme://host[:port]`` of an S3 API given as a URL or as ``host:port``.

    Args:
        endpoint: ``http(s)://host[:port]`` or ``host:port``.
        secure: the scheme when ``endpoint`` has none (True: https).

    Raises:
        RegistryConfigError: not an http(s) URL or ``host:port``.
    """
    url = endpoint if "://" in endpoint else f"{'https' if secure else 'http'}://{endpoint}"
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise RegistryConfigError(f"S3 endpoint {endpoint!r}: expected http(s)://host[:port] or host:port")
    return f"{parsed.scheme}://{parsed.netloc}"


class S3Connection:
    """A ``minio.Minio`` client for one endpoint and the backoff its calls are retried with.

    Args:
        endpoint: ``http(s)://host[:port]`` or ``host:port`` (see ``secure``).
        access_key / secret_key: credentials (None: anonymous).
        region: the bucket region (None: asked from the server).
        secure: HTTPS when ``endpoint`` has no scheme.
        backoff: the retry policy (default :class:`Backoff`: 5 attempts, 0.2 s doubling up to 5 s).
        max_connections: HTTP connections kept open to the endpoint.

    Attributes:
        endpoint: the normalised ``scheme://host[:port]`` that errors name.
        client: the ``minio.Minio`` client (its HTTP pool retries nothing).
        backoff: the retry policy.
    """

    def __init__(
        self,
        endpoint: str,
        *,
        access_key: str | None = None,
        secret_key: str | None = None,
        region: str | None = None,
        secure: bool = False,
        backoff: Backoff | None = None,
        max_connections: int = 8,
    ):
        import urllib3
        from minio import Minio

        self.endpoint = s3_endpoint_url(endpoint, secure=secure)
        self.backoff = backoff or Backoff()
        http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=5.0, read=120.0),
            retries=urllib3.Retry(total=0, redirect=0),
            maxsize=max_connections,
        )
        parsed = urlparse(self.endpoint)
        self.client: Minio = Minio(
            parsed.netloc,
            access_key=access_key,
            secret_key=secret_key,
            region=region,
            secure=parsed.scheme == "https",
            http_client=http,
        )

    def __repr__(self) -> str:
        return f"S3Connection({self.endpoint!r})"

    def call(self, what: str, call: Callable[[], T]) -> T:
        """Run ``call`` (one S3 request through :attr:`client`), retrying what is transient.

        Args:
            what: the request in words, for the error (``"reading deu/v000001/manifest.pb"``).

        Raises:
            RegistryUnavailableError: every attempt failed (names :attr:`endpoint`, ``what`` and the attempts).
            minio.error.S3Error: a definite answer (NoSuchKey, PreconditionFailed, AccessDenied...).
        """
        import urllib3
        from minio.error import S3Error, ServerError

        def guarded() -> T:
            try:
                return call()
            except S3Error as exc:
                if exc.code in TRANSIENT_S3_CODES:
                    raise ServerError(str(exc), 503) from exc
                raise

        return with_backoff(
            guarded,
            policy=self.backoff,
            transient=(urllib3.exceptions.HTTPError, OSError, ServerError),
            endpoint=self.endpoint,
            what=f"S3 {what}",
        )
