"""Sync the champion (else the newest) personality of each deu from the selected studio.

For every deu the studio lists for the ama, the version it plays by default (the one
listed with ``champion`` set, else the newest) is compared with what the agent plays
(``InstrumentState.current``). A different one is

1. **downloaded** as the packed bundle (``DownloadPersonality``) into
   ``<data path>/downloads/<deu>-v<version>-<digest>.tar.part``, appending from
   the part file's size: an interrupted download (a cut connection, Ctrl-C, a
   full disk) resumes where it stopped;
2. **verified**: the archive's sha256 must equal ``packed_sha256`` and the
   unpacked bundle's manifest digest the listed ``digest``, and every file its
   manifest digest; a corrupt archive is deleted and reported, and nothing
   changes;
3. **published** into the local store at the studio's version number
   (:meth:`PersonalityStore.commit` with ``version=N``; older versions stay);
4. **switched** to: ``state.pb``'s current personality is replaced atomically; when it is the
   studio's champion, it is promoted in the local store too (so ``amadeus play`` plays it).

Errors are specific (:class:`StudioUnreachableError`, :class:`StudioAuthError`,
:class:`SyncCorruptError`, :class:`SyncDiskFullError`, :class:`SyncConflictError`)
and leave the current personality playing.
"""

from __future__ import annotations

import errno
import os
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from instrument_agent.agent.state import AgentState
from instrument_agent.personality import (
    BundleCorruptError,
    BundleWriteError,
    PersonalityError,
    unpack_bundle,
)
from instrument_agent.personality.store import PersonalityStore

__all__ = [
    "PersonalitySource",
    "StudioAuthError",
    "StudioUnreachableError",
    "SyncConflictError",
    "SyncCorruptError",
    "SyncDiskFullError",
    "SyncError",
    "SyncReport",
    "SyncedDeu",
    "Syncer",
    "open_studio",
    "translate_rpc_error",
]

ProgressCallback = Callable[[str, int, int], None]
"""Called as ``progress(deu, bytes_done, bytes_total)`` while downloading."""


class SyncError(PersonalityError):
    """Base class of sync failures; the current personality keeps playing."""


class StudioUnreachableError(SyncError):
    """The studio did not answer (wrong address, down, network cut)."""


class StudioAuthError(SyncError):
    """The studio refused the token (missing, wrong or expired)."""


class SyncCorruptError(SyncError):
    """The downloaded bundle failed verification; it was discarded."""


class SyncDiskFullError(SyncError):
    """The disk filled while downloading or unpacking; the partial download is kept for resuming."""


class SyncConflictError(SyncError):
    """The local store holds the same version number of the deu with different content."""


class PersonalitySource(Protocol):
    """What sync needs from a studio (the light studio client provides it).

    Messages are ``amadeus.v1`` studio messages (``instrument_agent.proto.studio_pb2``).
    """

    def list_personalities(self, deu: str = "") -> list:  # [PersonalityVersion]
        ...

    def get_personality(self, deu: str, version: int = 0, digest: str = ""):  # -> PersonalityInfo
        ...

    def download_archive(self, deu: str, archive: Path, *, version: int = 0, digest: str = "", progress=None):
        """Download the packed bundle to ``archive``, resuming from ``archive.part``; verify its
        sha256 (raise an error whose ``code`` is None on a mismatch, removing the part file)."""
        ...


@dataclass(frozen=True)
class SyncedDeu:
    """The outcome of syncing one deu: ``action`` is ``downloaded``, ``switched``
    (already in the local store) or ``up-to-date``."""

    deu: str
    version: int
    digest: str
    action: str
    resumed_from: int = 0  # bytes already on disk when the download started
    bytes_downloaded: int = 0


@dataclass
class SyncReport:
    """What one sync did, per deu."""

    studio: str
    deus: list[SyncedDeu] = field(default_factory=list)

    @property
    def changed(self) -> list[SyncedDeu]:
        return [d for d in self.deus if d.action != "up-to-date"]


def _rpc_code_name(exc: BaseException) -> str | None:
    code = getattr(exc, "code", None)
    if callable(code):
        try:
            code = code()
        except Exception:  # noqa: BLE001 - not an RPC error after all
            return None
    name = getattr(code, "name", None)
    return name if isinstance(name, str) else None


def _detail(exc: BaseException) -> str:
    detail = getattr(exc, "details", None)
    if callable(detail):
        try:
            return str(detail())
        except Exception:  # noqa: BLE001
            pass
    return str(exc)


def translate_rpc_error(exc: BaseException, studio: str, address: str) -> BaseException:
    """Map a gRPC failure to a :class:`SyncError` with a sentence a musician can act on."""
    if isinstance(exc, SyncError):
        return exc
    name = _rpc_code_name(exc)
    detail = _detail(exc)
    if name in ("UNAUTHENTICATED", "PERMISSION_DENIED"):
        return StudioAuthError(
            f"studio {studio!r} at {address} refused the token ({detail}); "
            "register it again with the right token: "
            f"amadeus studios remove {studio} && amadeus studios add {studio} {address} --token ..."
        )
    if name in ("UNAVAILABLE", "DEADLINE_EXCEEDED") or isinstance(exc, (ConnectionError, TimeoutError)):
        return StudioUnreachableError(
            f"studio {studio!r} at {address} does not answer ({detail}); "
            "check the address and that the studio is running"
        )
    if name is not None:
        return SyncError(f"studio {studio!r} at {address} answered {name}: {detail}")
    return exc


def open_studio(registration, *, timeout_s: float = 60.0) -> PersonalitySource:
    """A client for a registered studio (``StudioRegistration``)."""
    from instrument_agent.client.studio_client import StudioClient

    return StudioClient(
        registration.address,
        token=registration.token or None,
        tls=registration.tls,
        root_certificates=registration.root_certificate_path or None,
        timeout=timeout_s,
    )


def _rank(row) -> tuple[bool, int]:
    """Which listed version a deu syncs: its champion first, then the newest."""
    return bool(getattr(row, "champion", False)), int(row.version)


def _is_disk_full(exc: BaseException) -> bool:
    while exc is not None:
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        exc = exc.__cause__
    return False


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_orphan_staging(downloads: Path) -> None:
    """Remove the unpacked copies left by a sync that was killed while publishing (found by the
    fault injection: a SIGKILL skips the ``finally`` that removes them, and they stayed for good).
    A copy is named after its sync's process id; those of a live process are another sync's."""
    for staging in downloads.glob(".unpacked-*"):
        pid = staging.name.rsplit("-", 2)[-2]
        if not pid.isdigit() or not _pid_alive(int(pid)):
            shutil.rmtree(staging, ignore_errors=True)


class Syncer:
    """Syncs personalities from the selected studio into the local store.

    Args:
        state: the agent state (studios, current personalities, data path).
        open_client: makes a :class:`PersonalitySource` for a ``StudioRegistration``
            (default :func:`open_studio`: the gRPC studio client).
    """

    def __init__(self, state: AgentState | None = None, *, open_client: Callable | None = None):
        self.state = state or AgentState()
        self.open_client = open_client or (lambda registration: open_studio(registration))

    @property
    def store(self) -> PersonalityStore:
        return PersonalityStore(self.state.data_path)

    @property
    def downloads(self) -> Path:
        return self.state.data_path / "downloads"

    def sync(self, deu: str | None = None, *, progress: ProgressCallback | None = None) -> SyncReport:
        """Sync the champion, else the newest version, of ``deu`` (every deu of the ama when None) from the
        selected studio.

        Raises :class:`StudioUnreachableError`, :class:`StudioAuthError`,
        :class:`SyncCorruptError`, :class:`SyncDiskFullError`,
        :class:`SyncConflictError` or a :class:`~instrument_agent.agent.state.AgentStateError`
        (no studio selected). The current personality is unchanged on any error.
        """
        registration = self.state.studio()
        report = SyncReport(studio=registration.name)
        _remove_orphan_staging(self.downloads)
        try:
            client = self.open_client(registration)
            try:
                listed = client.list_personalities(deu or "")
                newest: dict[str, object] = {}  # per deu: the champion, else the newest
                for row in listed:
                    if row.deu not in newest or _rank(row) > _rank(newest[row.deu]):
                        newest[row.deu] = row
                if deu and deu not in newest:
                    from instrument_agent.personality import UnknownDeuError

                    raise UnknownDeuError(f"studio {registration.name!r} has no personality of deu {deu!r}")
                for name in sorted(newest):
                    report.deus.append(self._sync_one(client, registration.name, newest[name], progress))
            finally:
                close = getattr(client, "close", None)
                if close is not None:
                    close()
        except SyncError:
            raise
        except Exception as exc:
            translated = translate_rpc_error(exc, registration.name, registration.address)
            if translated is exc:
                raise
            raise translated from None
        return report

    # -- one deu -------------------------------------------------------------
    def _sync_one(self, client, studio: str, remote, progress: ProgressCallback | None) -> SyncedDeu:
        synced = self._fetch_one(client, studio, remote, progress)
        if getattr(remote, "champion", False):
            self.store.promote(synced.deu, synced.version, by=f"sync from studio {studio}")
        return synced

    def _fetch_one(self, client, studio: str, remote, progress: ProgressCallback | None) -> SyncedDeu:
        deu, version, digest = remote.deu, int(remote.version), remote.digest
        current = self.state.load().current.get(deu)
        store = self.store
        local = {info.version: info for info in store.versions(deu)}
        if version in local:
            if local[version].digest != digest:
                raise SyncConflictError(
                    f"deu {deu!r} version {version}: the local store holds different content "
                    f"(digest {local[version].digest[:12]}…) than studio {studio!r} ({digest[:12]}…)"
                )
            store.get(deu, version)  # verify before switching to it
            # A sync killed after storing this version left its archive (found by the fault injection).
            for leftover in self.downloads.glob(f"{deu}-v{version:06d}-{digest[:16]}.tar*"):
                leftover.unlink(missing_ok=True)
            if current is not None and current.digest == digest:
                return SyncedDeu(deu, version, digest, "up-to-date")
            self.state.set_current(deu, version, digest, studio)
            return SyncedDeu(deu, version, digest, "switched")
        archive, resumed, fetched = self._download(client, deu, version, digest, progress)
        try:
            bundle = self._publish(store, archive, deu, version, digest)
        except SyncDiskFullError:
            raise  # keep the verified archive: publishing retries without downloading again
        except BaseException:
            archive.unlink(missing_ok=True)
            raise
        archive.unlink(missing_ok=True)
        self.state.set_current(deu, bundle.version, bundle.digest, studio)
        return SyncedDeu(deu, version, digest, "downloaded", resumed, fetched)

    def _download(self, client, deu: str, version: int, digest: str, progress) -> tuple[Path, int, int]:
        self.downloads.mkdir(parents=True, exist_ok=True)
        archive = self.downloads / f"{deu}-v{version:06d}-{digest[:16]}.tar"
        part = archive.with_name(archive.name + ".part")
        resumed = part.stat().st_size if part.exists() else 0
        report = (lambda done, total: progress(deu, done, total)) if progress else None
        try:
            client.download_archive(deu, archive, version=version, digest=digest, progress=report)
        except OSError as exc:
            if _is_disk_full(exc):
                have = part.stat().st_size if part.exists() else 0
                raise SyncDiskFullError(
                    f"{part}: disk full after {have} bytes of {deu} v{version}; "
                    "free some space, the download resumes where it stopped"
                ) from None
            raise
        except Exception as exc:
            if getattr(exc, "code", "unset") is None:  # the client's local check: bytes out of order or sha256 mismatch
                part.unlink(missing_ok=True)
                raise SyncCorruptError(
                    f"downloaded {deu} v{version} is corrupt ({exc}); "
                    "it was discarded and the current personality keeps playing"
                ) from None
            if not part.exists() or part.stat().st_size == resumed:
                raise
            got = part.stat().st_size
            raise StudioUnreachableError(
                f"download of {deu} v{version} stopped after {got} bytes ({_detail(exc)}); it resumes at the next sync"
            ) from None
        size = archive.stat().st_size
        return archive, resumed, size - resumed

    def _publish(self, store: PersonalityStore, archive: Path, deu: str, version: int, digest: str):
        staging = self.downloads / f".unpacked-{deu}-v{version}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        try:
            try:
                unpacked = unpack_bundle(archive.read_bytes(), staging, expected_digest=digest)
            except BundleCorruptError as exc:
                raise SyncCorruptError(
                    f"{deu} v{version} from the studio is corrupt: {exc}; it was discarded"
                ) from None
            files = {entry.path: unpacked.path / entry.path for entry in unpacked.manifest.files}
            try:
                bundle = store.commit(deu, unpacked.manifest, files, link=True, version=version)
            except BundleWriteError as exc:
                if _is_disk_full(exc):
                    raise SyncDiskFullError(f"disk full while storing {deu} v{version}: {exc}") from None
                raise
            if bundle.digest != digest:  # cannot happen for a bundle written by write_bundle
                raise SyncCorruptError(f"{deu} v{version}: stored digest {bundle.digest[:12]}… ≠ {digest[:12]}…")
            return bundle
        except OSError as exc:
            if _is_disk_full(exc):
                raise SyncDiskFullError(f"disk full while unpacking {deu} v{version} ({exc.strerror})") from None
            raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
