"""Errors the studio answers with: each carries its gRPC status code and a message
that names the field or file and the problem."""

from __future__ import annotations

import grpc

__all__ = [
    "InvalidRequestError",
    "NotFoundError",
    "PermissionDeniedError",
    "PreconditionError",
    "StudioError",
    "TooLargeError",
    "UnauthenticatedError",
    "UnavailableError",
    "UnimplementedError",
]


class StudioError(Exception):
    """Base class: ``code`` is the gRPC status the request ends with."""

    code = grpc.StatusCode.INTERNAL


class InvalidRequestError(StudioError, ValueError):
    """A field is missing or malformed; content that is not audio or not MIDI."""

    code = grpc.StatusCode.INVALID_ARGUMENT


class NotFoundError(StudioError, LookupError):
    """No such deu, version or practice for this ama (another tenant's included)."""

    code = grpc.StatusCode.NOT_FOUND


class TooLargeError(StudioError):
    """An upload over the size limit, or too many practices at once for the ama."""

    code = grpc.StatusCode.RESOURCE_EXHAUSTED


class UnauthenticatedError(StudioError):
    """A missing, unknown or expired bearer token."""

    code = grpc.StatusCode.UNAUTHENTICATED


class PermissionDeniedError(StudioError):
    """The ama may not use this resource (e.g. a server path outside the allowed audio roots)."""

    code = grpc.StatusCode.PERMISSION_DENIED


class PreconditionError(StudioError):
    """The request disagrees with the stored state (e.g. a digest that does not match the version)."""

    code = grpc.StatusCode.FAILED_PRECONDITION


class UnavailableError(StudioError):
    """A backend the request needs (TensorFlow Serving, the Kubernetes API) is unreachable or missing."""

    code = grpc.StatusCode.UNAVAILABLE


class UnimplementedError(StudioError):
    """This studio's backend does not offer what was asked (e.g. practice previews in the cluster studio)."""

    code = grpc.StatusCode.UNIMPLEMENTED
