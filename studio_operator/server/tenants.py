"""Tenants: bearer tokens per ama, stored hashed.

The tokens file (YAML) lists one entry per token; only the token's sha256 is
kept, so the file leaks nothing usable::

    tokens:
      - ama: alice
        sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
        expires: 2026-01-01T00:00:00Z      # optional (RFC 3339, UTC when no zone)
      - ama: bob
        sha256: ...

Tokens are random 256-bit strings made by :func:`new_token`, so one sha256 is
enough (no salt or slow hash is needed against guessing). Clients send
``authorization: Bearer <token>`` metadata.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

import yaml

from instrument_agent.personality.atomic import atomic_write
from studio_operator.server.errors import UnauthenticatedError

__all__ = ["TokenEntry", "TokenRegistry", "TokensFileError", "add_token", "hash_token", "new_token", "validate_ama"]

_AMA = re.compile(r"^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


class TokensFileError(ValueError):
    """The tokens file is unreadable or an entry is malformed; names the file and entry."""


def validate_ama(ama: str, *, source: str = "ama") -> str:
    """Return ``ama`` if usable as a directory / label name, else raise :class:`TokensFileError`."""
    if not isinstance(ama, str) or not _AMA.match(ama):
        raise TokensFileError(f"{source}: invalid ama name {ama!r} (1-63 lowercase letters, digits, '.', '_' or '-')")
    return ama


def hash_token(token: str) -> str:
    """Hex sha256 of a token (what the tokens file stores)."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    """A fresh random token (43 url-safe characters, 256 bits)."""
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class TokenEntry:
    ama: str
    sha256: str
    expires: _dt.datetime | None = None


def _parse_time(value, source: str) -> _dt.datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, _dt.datetime):
        when = value
    else:
        try:
            when = _dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise TokensFileError(f"{source}: expires {value!r} is not an RFC 3339 time") from None
    return when if when.tzinfo else when.replace(tzinfo=_dt.UTC)


class TokenRegistry:
    """Maps bearer tokens to amas.

    Args:
        entries: the known tokens. An empty registry means authentication is
            off (single-user studio): every request is the ama ``""``.
    """

    def __init__(self, entries: list[TokenEntry] | None = None):
        self._by_hash = {entry.sha256: entry for entry in entries or []}

    @property
    def entries(self) -> list[TokenEntry]:
        """The tokens, in file order."""
        return list(self._by_hash.values())

    @property
    def enabled(self) -> bool:
        return bool(self._by_hash)

    @classmethod
    def from_file(cls, path: str | Path) -> TokenRegistry:
        """Read a tokens file; raise :class:`TokensFileError` naming the file and entry on any problem."""
        path = Path(path)
        try:
            data = yaml.safe_load(path.read_text()) or {}
        except OSError as exc:
            raise TokensFileError(f"{path}: cannot read tokens file ({exc.strerror or exc})") from None
        except yaml.YAMLError as exc:
            raise TokensFileError(f"{path}: not valid YAML ({exc})") from None
        rows = data.get("tokens") if isinstance(data, dict) else None
        if not isinstance(rows, list):
            raise TokensFileError(f"{path}: expected a top-level 'tokens:' list")
        entries = []
        for i, row in enumerate(rows):
            source = f"{path}: tokens[{i}]"
            if not isinstance(row, dict):
                raise TokensFileError(f"{source}: expected a mapping with ama and sha256")
            digest = str(row.get("sha256", "")).lower()
            if not _HEX64.match(digest):
                raise TokensFileError(
                    f"{source}: sha256 must be 64 hex digits (store the token's hash, never the token)"
                )
            entries.append(
                TokenEntry(validate_ama(row.get("ama"), source=source), digest, _parse_time(row.get("expires"), source))
            )
        return cls(entries)

    def authenticate(self, metadata, *, now: _dt.datetime | None = None) -> str:
        """The ama of a call's ``authorization: Bearer`` metadata.

        Raises :class:`UnauthenticatedError` for a missing, malformed, unknown
        or expired token. Returns ``""`` when authentication is off.
        """
        if not self.enabled:
            return ""
        header = next((value for key, value in metadata or () if key == "authorization"), None)
        if not header:
            raise UnauthenticatedError("missing 'authorization: Bearer <token>' metadata")
        scheme, _, token = str(header).partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise UnauthenticatedError("authorization metadata must be 'Bearer <token>'")
        digest = hash_token(token.strip())
        entry = next((e for h, e in self._by_hash.items() if hmac.compare_digest(h, digest)), None)
        if entry is None:
            raise UnauthenticatedError("unknown token")
        now = now or _dt.datetime.now(_dt.UTC)
        if entry.expires is not None and now >= entry.expires:
            raise UnauthenticatedError(f"token of ama {entry.ama!r} expired at {entry.expires.isoformat()}")
        return entry.ama


def add_token(path: str | Path, ama: str, *, expires: _dt.datetime | None = None) -> str:
    """Create a token for ``ama``, append its hash to the tokens file (created if
    absent, rewritten atomically) and return the token (shown once, never stored)."""
    path = Path(path)
    validate_ama(ama)
    data = {"tokens": []}
    if path.exists():
        TokenRegistry.from_file(path)  # refuse to extend a broken file
        data = yaml.safe_load(path.read_text()) or {"tokens": []}
    token = new_token()
    row: dict = {"ama": ama, "sha256": hash_token(token)}
    if expires is not None:
        row["expires"] = expires.astimezone(_dt.UTC).isoformat().replace("+00:00", "Z")
    data["tokens"].append(row)
    atomic_write(path, yaml.safe_dump(data, sort_keys=False), file_mode=0o600)
    return token
