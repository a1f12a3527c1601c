"""The Amadeus studio gRPC server (``amadeus.v1.Studio``): Practice and Perform,
stateless, multi-tenant, observable. See docs/studio.md.

Backends implement :class:`StudioBackend` (the servicer and the server know no other
type): :class:`EmbeddedBackend` (local store + practice runner processes, the
default) and :class:`ClusterBackend` (Practice custom resources through the
Kubernetes API, one namespace per ama; personalities and audio in S3).
"""

from studio_operator.server.backend import PersonalityReader, PracticeWatcher, StudioBackend
from studio_operator.server.backends.cluster.backend import ClusterBackend
from studio_operator.server.backends.embedded.backend import EmbeddedBackend
from studio_operator.server.errors import (
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    PreconditionError,
    StudioError,
    TooLargeError,
    UnauthenticatedError,
    UnavailableError,
)
from studio_operator.server.metrics import StudioMetrics
from studio_operator.server.server import StudioConfig, StudioServer, serve
from studio_operator.server.tenants import TokenRegistry, TokensFileError, add_token, hash_token, new_token

__all__ = [
    "ClusterBackend",
    "EmbeddedBackend",
    "InvalidRequestError",
    "NotFoundError",
    "PermissionDeniedError",
    "PersonalityReader",
    "PracticeWatcher",
    "PreconditionError",
    "StudioBackend",
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
