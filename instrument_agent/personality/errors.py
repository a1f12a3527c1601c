"""Errors raised when reading, verifying or writing personalities."""

from __future__ import annotations

__all__ = [
    "BundleCorruptError",
    "BundleNotFoundError",
    "BundleSchemaError",
    "BundleWriteError",
    "PersonalityError",
    "UnknownDeuError",
    "UnknownVersionError",
]


class PersonalityError(Exception):
    """Base class of every personality bundle and store error."""


class BundleNotFoundError(PersonalityError):
    """The path holds no personality bundle (no ``manifest.pb``)."""


class BundleCorruptError(PersonalityError):
    """A bundle file is missing, truncated, changed, or the manifest is unreadable.

    ``path`` names the offending file.
    """

    def __init__(self, message: str, path: str | None = None):
        super().__init__(message)
        self.path = path


class BundleSchemaError(PersonalityError):
    """The bundle was written by a newer Amadeus (a schema this version can't read)."""


class BundleWriteError(PersonalityError):
    """Writing a bundle failed (for example the disk filled); nothing was published."""


class UnknownDeuError(PersonalityError, LookupError):
    """No personality of that deu is in the store."""


class UnknownVersionError(PersonalityError, LookupError):
    """The deu exists but not at that version."""
