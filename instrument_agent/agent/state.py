"""The instrument agent's own state: studios, the selected studio, the data path,
the current personality of each deu, and settings.

Kept as one ``amadeus.v1.InstrumentState`` protobuf in ``$AMADEUS_HOME/state.pb``
(hermetic: nothing else is needed to restore the agent). Every change is a
read-modify-write under an exclusive file lock, and the file is replaced
atomically (temporary file, fsync, rename), so the CLI and a running agent can
change it at the same time and a crash never leaves a half-written state.

The *data path* is where the agent keeps personalities, downloads and
recordings; it defaults to the Amadeus home.
"""

from __future__ import annotations

import contextlib
import errno
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

from google.protobuf import message as _message

from instrument_agent.personality.atomic import atomic_write
from instrument_agent.personality.home import amadeus_home
from instrument_agent.proto import instrument_pb2

__all__ = [
    "DEFAULT_SETTINGS",
    "STATE_FILE",
    "STATE_SCHEMA_VERSION",
    "AgentState",
    "AgentStateError",
    "InvalidStudioError",
    "StateDiskFullError",
    "StateFileCorruptError",
    "StudioExistsError",
    "UnknownStudioError",
    "validate_address",
]

STATE_FILE = "state.pb"
STATE_SCHEMA_VERSION = 1

DEFAULT_SETTINGS = {
    "sample_rate": 48000,  # Hz
    "block_size": 128,  # samples
    "audio_device": "",
    "midi_port_name": "",
    "sync_interval_s": 60,  # s
    "ui_port": 8765,
}

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")
_ADDRESS = re.compile(r"^(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(?P<port>\d{1,5})$")


class AgentStateError(ValueError):
    """Base class: the agent state can't be read or the asked change is invalid."""


class StateFileCorruptError(AgentStateError):
    """``state.pb`` is not a valid InstrumentState (``path`` names it)."""

    def __init__(self, path: Path, problem: str):
        super().__init__(f"{path}: agent state is unreadable ({problem}); move it away to start afresh")
        self.path = str(path)


class StateDiskFullError(AgentStateError):
    """Writing ``state.pb`` failed for lack of space; the previous state is kept."""


class InvalidStudioError(AgentStateError):
    """A studio name, address or TLS setting is malformed (the message names the field)."""


class StudioExistsError(AgentStateError):
    """A studio with that name is already registered."""


class UnknownStudioError(AgentStateError, LookupError):
    """No studio of that name is registered."""


def validate_address(address: str) -> str:
    """Return ``address`` if it is ``host:port`` (port 1..65535), else raise :class:`InvalidStudioError`."""
    match = _ADDRESS.match(address or "")
    if not match or not 1 <= int(match["port"]) <= 65535:
        raise InvalidStudioError(f"studio address {address!r} is not host:port (for example localhost:50051)")
    return address


def _defaults(state: instrument_pb2.InstrumentState) -> instrument_pb2.InstrumentState:
    """Fill proto3 zeros with the defaults (in place) and return ``state``."""
    state.schema_version = state.schema_version or STATE_SCHEMA_VERSION
    for field, value in DEFAULT_SETTINGS.items():
        if not getattr(state.settings, field):
            setattr(state.settings, field, value)
    return state


class AgentState:
    """Reads and changes ``state.pb`` under ``home`` (default :func:`amadeus_home`).

    Every method that changes something does a locked read-modify-write and
    returns the new :class:`InstrumentState`.
    """

    def __init__(self, home: str | Path | None = None):
        self.home = Path(home) if home is not None else amadeus_home()
        self.path = self.home / STATE_FILE

    def __repr__(self) -> str:
        return f"AgentState({str(self.home)!r})"

    # -- reading -----------------------------------------------------------
    def load(self) -> instrument_pb2.InstrumentState:
        """The current state, defaults filled in (a fresh one when no file exists yet)."""
        state = instrument_pb2.InstrumentState()
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return _defaults(state)
        try:
            state.ParseFromString(data)
        except _message.DecodeError as exc:
            raise StateFileCorruptError(self.path, f"not an InstrumentState: {exc}") from None
        if state.schema_version > STATE_SCHEMA_VERSION:
            raise StateFileCorruptError(
                self.path,
                f"schema {state.schema_version} is newer than this Amadeus understands ({STATE_SCHEMA_VERSION})",
            )
        return _defaults(state)

    @property
    def data_path(self) -> Path:
        """Where personalities, downloads and recordings live (default: the home)."""
        return Path(self.load().data_path or self.home)

    def studio(self, name: str | None = None) -> instrument_pb2.StudioRegistration:
        """The studio called ``name`` (the selected one when None).

        Raises :class:`UnknownStudioError` (also when none is selected)."""
        state = self.load()
        name = name or state.selected_studio
        if not name:
            raise UnknownStudioError("no studio is selected: register one with 'amadeus studios add NAME HOST:PORT'")
        for studio in state.studios:
            if studio.name == name:
                return studio
        known = ", ".join(s.name for s in state.studios) or "none"
        raise UnknownStudioError(f"no studio named {name!r} is registered (registered: {known})")

    # -- writing -----------------------------------------------------------
    def save(self, state: instrument_pb2.InstrumentState) -> None:
        """Replace ``state.pb`` atomically; raises :class:`StateDiskFullError` when the disk is full."""
        self.home.mkdir(parents=True, exist_ok=True)
        data = state.SerializeToString(deterministic=True)
        try:
            atomic_write(self.path, data)
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise StateDiskFullError(
                    f"{self.path}: disk full, the agent state was not changed ({exc.strerror})"
                ) from None
            raise

    @contextlib.contextmanager
    def edit(self) -> Iterator[instrument_pb2.InstrumentState]:
        """Lock, load, yield the state to change, then save it (not saved if the block raises)."""
        self.home.mkdir(parents=True, exist_ok=True)
        with open(self.home / ".state.lock", "a+b") as lock:
            _lock(lock)
            try:
                state = self.load()
                yield state
                self.save(state)
            finally:
                _unlock(lock)

    def add_studio(
        self,
        name: str,
        address: str,
        *,
        tls: bool = False,
        token: str = "",
        root_certificate_path: str = "",
        select: bool | None = None,
    ) -> instrument_pb2.InstrumentState:
        """Register a studio. It becomes the selected one when ``select`` is true, or when
        ``select`` is None and no studio is selected yet."""
        if not _NAME.match(name or ""):
            raise InvalidStudioError(
                f"studio name {name!r} is invalid: use letters, digits, '.', '_' or '-' (at most 63)"
            )
        validate_address(address)
        if root_certificate_path and not tls:
            raise InvalidStudioError("a root certificate was given without --tls")
        if root_certificate_path and not Path(root_certificate_path).is_file():
            raise InvalidStudioError(f"root certificate {root_certificate_path!r} is not a readable file")
        with self.edit() as state:
            if any(s.name == name for s in state.studios):
                raise StudioExistsError(f"a studio named {name!r} is already registered; remove it first to change it")
            state.studios.add(
                name=name, address=address, tls=tls, token=token, root_certificate_path=root_certificate_path
            )
            if select or (select is None and not state.selected_studio):
                state.selected_studio = name
        return state

    def remove_studio(self, name: str) -> instrument_pb2.InstrumentState:
        """Forget a studio (personalities synced from it stay); unselects it if selected."""
        with self.edit() as state:
            kept = [s for s in state.studios if s.name != name]
            if len(kept) == len(state.studios):
                known = ", ".join(s.name for s in state.studios) or "none"
                raise UnknownStudioError(f"no studio named {name!r} is registered (registered: {known})")
            del state.studios[:]
            state.studios.extend(kept)
            if state.selected_studio == name:
                state.selected_studio = kept[0].name if kept else ""
        return state

    def select_studio(self, name: str) -> instrument_pb2.InstrumentState:
        """Make ``name`` the studio the agent syncs from and practises with."""
        with self.edit() as state:
            if not any(s.name == name for s in state.studios):
                known = ", ".join(s.name for s in state.studios) or "none"
                raise UnknownStudioError(f"no studio named {name!r} is registered (registered: {known})")
            state.selected_studio = name
        return state

    def set_current(
        self, deu: str, version: int, digest: str, studio: str = "", *, select: bool = False
    ) -> instrument_pb2.InstrumentState:
        """Record that the agent now plays ``deu`` at ``version`` (synced from ``studio``)."""
        with self.edit() as state:
            current = state.current[deu]
            current.deu = deu
            current.version = int(version)
            current.digest = digest
            current.studio = studio
            current.synced.GetCurrentTime()
            if select or not state.selected_deu:
                state.selected_deu = deu
        return state

    def select_deu(self, deu: str) -> instrument_pb2.InstrumentState:
        with self.edit() as state:
            state.selected_deu = deu
        return state

    def set_data_path(self, path: str | Path) -> instrument_pb2.InstrumentState:
        """Use ``path`` (created if needed, must be writable) for personalities, downloads and recordings."""
        path = Path(path).expanduser().resolve()
        try:
            path.mkdir(parents=True, exist_ok=True)
            probe = tempfile.NamedTemporaryFile(dir=path, prefix=".amadeus-probe-")
            probe.close()
        except OSError as exc:
            raise AgentStateError(
                f"data path {str(path)!r} is not a writable directory ({exc.strerror or exc})"
            ) from None
        with self.edit() as state:
            state.data_path = str(path)
        return state

    def update_settings(self, **values) -> instrument_pb2.InstrumentState:
        """Change settings by field name (see ``InstrumentSettings``); validates ranges."""
        from instrument_agent.engine import (
            MAX_BLOCK,
            MAX_SAMPLE_RATE,
            MIN_BLOCK,
            MIN_SAMPLE_RATE,
        )

        limits = {
            "sample_rate": (MIN_SAMPLE_RATE, MAX_SAMPLE_RATE),
            "block_size": (MIN_BLOCK, MAX_BLOCK),
            "sync_interval_s": (5, 86400),
            "ui_port": (1, 65535),
        }
        with self.edit() as state:
            for field, value in values.items():
                if field not in DEFAULT_SETTINGS:
                    raise AgentStateError(f"unknown setting {field!r} (settings: {', '.join(DEFAULT_SETTINGS)})")
                if field in limits:
                    try:
                        value = int(value)
                    except (TypeError, ValueError):
                        raise AgentStateError(f"setting {field} must be a whole number, got {value!r}") from None
                    low, high = limits[field]
                    if not low <= value <= high:
                        raise AgentStateError(f"setting {field}={value} is out of range [{low}, {high}]")
                else:
                    value = str(value)
                setattr(state.settings, field, value)
        return state


def _lock(handle) -> None:
    try:
        import fcntl

        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
    except ImportError:  # Windows
        import msvcrt

        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK, 1)


def _unlock(handle) -> None:
    try:
        import fcntl

        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    except ImportError:
        import msvcrt

        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
