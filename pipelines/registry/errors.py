"""Errors of the personality registry (all are :class:`PersonalityError`)."""

from __future__ import annotations

from instrument_agent.personality import PersonalityError

__all__ = ["RegistryConfigError", "RegistryConflictError", "RegistryError", "RegistryUnavailableError"]


class RegistryError(PersonalityError):
    """Base class of registry errors."""


class RegistryConfigError(RegistryError, ValueError):
    """The registry configuration (``AMADEUS_REGISTRY``, endpoint, credentials) is malformed."""


class RegistryUnavailableError(RegistryError, ConnectionError):
    """The store or catalog did not answer after every retry.

    ``endpoint`` names the server that was tried, ``attempts`` how often.
    """

    def __init__(self, message: str, endpoint: str, attempts: int):
        super().__init__(message)
        self.endpoint = endpoint
        self.attempts = attempts


class RegistryConflictError(RegistryError):
    """An immutable object already exists with different content (versions are never overwritten)."""
