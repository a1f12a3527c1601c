"""The Amadeus studio gRPC server (``amadeus.v1.Studio``): Practice and Perform,
stateless, multi-tenant, observable. See docs/studio.md.

Backends: :class:`EmbeddedBackend` (local store + practice runner processes, the
default) and :class:`ClusterBackend` (Practice custom resources through the
Kubernetes API, one namespace per ama; personalities and audio in S3).
"""

from .cluster import ClusterBackend
from .embedded import EmbeddedBackend
from .errors import (
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    PreconditionError,
    StudioError,
    TooLargeError,
    UnauthenticatedError,
    UnavailableError,
)
from .metrics import StudioMetrics
from .server import StudioConfig, StudioServer, serve
from .tenants import TokenRegistry, TokensFileError, add_token, hash_token, new_token

__all__ = [
    "ClusterBackend",
    "EmbeddedBackend",
    "InvalidRequestError",
    "NotFoundError",
    "PermissionDeniedError",
    "PreconditionError",
    "StudioConfig",
    "StudioError",
    "StudioMetrics",
    "StudioServer",
    "TokenRegistry",
    "TokensFileError",
    "TooLargeError",
    "UnauthenticatedError",
    "UnavailableError",
    "add_token",
    "hash_token",
    "new_token",
    "serve",
]
