"""A practice's input files by URI: local paths as they are, ``s3://`` objects fetched.

The S3 / MinIO endpoint and credentials come from the registry configuration
(:meth:`pipelines.registry.RegistryConfig.from_env`: ``AMADEUS_S3_ENDPOINT``,
``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_REGION``), the same
settings the registry and the studio's cluster store use.

A fetched object is written to a temporary name and renamed once its size
matches the object's (``stat``); a missing object, a missing bucket, refused
credentials or an unreachable endpoint raise :class:`PracticeInputError`
naming the URI and the endpoint.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlparse

__all__ = ["PracticeInputError", "fetch_inputs", "is_remote"]


class PracticeInputError(ValueError):
    """A practice input (audio, performance) can't be had; names the URI (and the endpoint)."""

    def __init__(self, uri: str, problem: str):
        super().__init__(f"{uri}: {problem}")
        self.uri = uri
        self.problem = problem


def is_remote(uri: str | Path) -> bool:
    """True for an ``s3://`` URI."""
    return str(uri).startswith("s3://")


def _connection(endpoint: str, config):
    from pipelines.registry import Backoff, S3Connection

    # A practice's inputs are fetched once at its start: three quick attempts, then the error
    # naming the endpoint (the registry's own publishes keep the longer default backoff).
    return S3Connection(
        endpoint,
        access_key=config.access_key,
        secret_key=config.secret_key,
        region=config.region,
        backoff=Backoff(attempts=3, base_delay=0.2, max_delay=1.0),
    )


def _fetch_one(connection, uri: str, target: Path) -> Path:
    from minio.error import S3Error

    from pipelines.registry import RegistryUnavailableError

    parsed = urlparse(uri)
    bucket, key = parsed.netloc, parsed.path.lstrip("/")
    if not bucket or not key:
        raise PracticeInputError(uri, "expected s3://bucket/key")
    endpoint = connection.endpoint
    partial = target.with_name(f".{target.name}.part")
    try:
        size = connection.call(f"stat of {uri}", lambda: connection.client.stat_object(bucket, key).size)
        connection.call(f"download of {uri}", lambda: connection.client.fget_object(bucket, key, str(partial)))
    except S3Error as exc:
        partial.unlink(missing_ok=True)
        if exc.code in ("NoSuchKey", "NoSuchBucket", "NoSuchObject", "ResourceNotFound"):
            what = "no such bucket" if exc.code == "NoSuchBucket" else "no such object"
            raise PracticeInputError(uri, f"{what} at the S3 endpoint {endpoint}") from None
        raise PracticeInputError(uri, f"the S3 endpoint {endpoint} refused it ({exc.code}: {exc.message})") from None
    except RegistryUnavailableError as exc:
        partial.unlink(missing_ok=True)
        raise PracticeInputError(uri, str(exc)) from None
    got = partial.stat().st_size
    if got != size:
        partial.unlink(missing_ok=True)
        raise PracticeInputError(uri, f"fetched {got} bytes from {endpoint}, the object has {size}")
    partial.replace(target)
    return target


def fetch_inputs(uris: Sequence[str | Path], folder: str | Path, *, config=None) -> list[str]:
    """Local paths for ``uris``, in order: local paths (``file://`` stripped) checked to exist,
    ``s3://bucket/key`` objects downloaded into ``folder`` as ``NNN-<name>``.

    Args:
        uris: paths or ``s3://`` URIs.
        folder: where fetched objects go (created).
        config: a :class:`pipelines.registry.RegistryConfig` (default: from the environment).

    Raises:
        PracticeInputError: a local file is missing, an object is missing or its size is
            wrong, the endpoint is unset or unreachable (the message names it).
    """
    from pipelines.registry import RegistryConfig

    paths: list[str] = []
    connection = None
    for i, uri in enumerate(map(str, uris)):
        if not is_remote(uri):
            path = Path(uri.removeprefix("file://"))
            if not path.is_file():
                raise PracticeInputError(uri, "no such file")
            paths.append(str(path))
            continue
        if connection is None:
            config = config or RegistryConfig.from_env()
            endpoint = config.s3_endpoint
            if not endpoint:
                raise PracticeInputError(
                    uri, "no S3 endpoint configured: set AMADEUS_S3_ENDPOINT (the S3/MinIO API URL)"
                )
            connection = _connection(endpoint, config)
            os.makedirs(folder, exist_ok=True)
        name = Path(urlparse(uri).path).name or "object"
        paths.append(str(_fetch_one(connection, uri, Path(folder) / f"{i:03d}-{name}")))
    return paths
