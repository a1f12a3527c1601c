"""The contract between the studio servicer and where the studio's state lives.

:class:`StudioBackend` is what :class:`~studio_operator.server.service.StudioServicer`
and :mod:`~studio_operator.server.server` use; two backends implement it:

* :class:`~studio_operator.server.backends.embedded.EmbeddedBackend` (the default): the
  ama's local store, practice work directories and runner processes;
* :class:`~studio_operator.server.backends.cluster.ClusterBackend`: ``Practice`` custom
  resources through the Kubernetes API, personalities and audio in S3 / MinIO.

A backend whose practices write previews of the personality-in-training (the embedded one)
implements :class:`PracticePreviewer`; the servicer answers UNIMPLEMENTED for the others.
A backend that can stream a practice's changes itself also implements
:class:`PracticeWatcher` (the cluster backend: a Kubernetes watch); for the others the
servicer polls :meth:`StudioBackend.progress`. A backend whose runners measure how long a
practice ran implements :class:`PracticeMeasurer` (both do): the usage ledger bills those
seconds once the practice's final progress is terminal.

Errors are :class:`~studio_operator.server.errors.StudioError` subclasses (each carries
its gRPC status); the personality store's own errors (``UnknownDeuError``,
``UnknownVersionError``: NOT_FOUND; ``BundleCorruptError``: DATA_LOSS) pass through and the
interceptor maps them. Every ``ama`` argument is the authenticated tenant (``""`` for a
single-user studio): a backend answers from that ama's namespace only, so another
tenant's deu or practice is NOT_FOUND.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from instrument_agent.personality import Bundle, ChampionEvent
    from instrument_agent.personality.store import VersionInfo
    from instrument_agent.proto import studio_pb2

__all__ = ["PersonalityReader", "PracticeMeasurer", "PracticePreviewer", "PracticeWatcher", "StudioBackend"]


@runtime_checkable
class PersonalityReader(Protocol):
    """One ama's personalities, read-only but for the champion: what :meth:`StudioBackend.store` returns.

    :class:`~instrument_agent.personality.store.PersonalityStore` (embedded) and
    :class:`~studio_operator.server.backends.cluster.TenantStore` (S3 registry + local
    verified cache) implement it. The cluster store raises
    :class:`~studio_operator.server.errors.UnavailableError` from every method when the
    object store is unreachable and :class:`~studio_operator.server.errors.PreconditionError`
    when it is not set up.
    """

    def deus(self) -> list[str]:
        """Every deu with at least one version, sorted."""
        ...

    def versions(self, deu: str) -> list[VersionInfo]:
        """The versions of ``deu``, oldest first (empty when the deu has none)."""
        ...

    def info(self, deu: str, version: int | None = None) -> VersionInfo:
        """One version's row (None: the latest). Raises UnknownDeuError / UnknownVersionError."""
        ...

    def champion(self, deu: str) -> ChampionEvent | None:
        """The deu's promoted champion (None when none was promoted)."""
        ...

    def default_version(self, deu: str) -> int:
        """The version played when a request names none: the champion, else the latest."""
        ...

    def champion_history(self, deu: str) -> list[ChampionEvent]:
        """Every promote and rollback of ``deu``, oldest first."""
        ...

    def promote(self, deu: str, version: int, *, by: str = "cli") -> ChampionEvent:
        """Make ``version`` the champion (the one write a reader allows; atomic or conditional)."""
        ...

    def rollback(self, deu: str, *, by: str = "cli") -> ChampionEvent:
        """Back to the previous champion; NoChampionError when there is none."""
        ...

    def bundle_path(self, deu: str, version: int) -> Path:
        """Where :meth:`get` puts (or finds) that version's bundle directory on this machine."""
        ...

    def get(self, deu: str, version: int | None = None, *, verify: bool = True) -> Bundle:
        """The bundle of one version (None: the latest), digests verified.

        Raises UnknownDeuError / UnknownVersionError, BundleCorruptError.
        """
        ...


@runtime_checkable
class StudioBackend(Protocol):
    """Where practices run and personalities are kept, for one studio server."""

    name: str
    """``"embedded"`` or ``"cluster"`` (the ``--backend`` choice)."""

    def store(self, ama: str) -> PersonalityReader:
        """The ama's personalities. Cheap: the servicer calls it for every request."""
        ...

    def check_audio_uri(self, uri: str, field: str) -> None:
        """Check audio named by reference (``header.audio_uris``, ``header.performance``) before any upload.

        Blocking: the servicer calls it on a worker thread. ``field`` names the request
        field in the error messages.

        Raises:
            InvalidRequestError: a URI this backend does not read, no such file or object, not audio, empty.
            PermissionDeniedError: outside what the ama may read (the embedded studio's audio roots,
                the ama's own prefix in the cluster studio's bucket).
            UnavailableError: the object store is unreachable (cluster).
        """
        ...

    def staging(self, ama: str) -> Path:
        """A fresh, empty local directory for one Practice call's uploads (the servicer writes the files)."""
        ...

    def discard(self, staging_uploads: Path) -> None:
        """Remove a :meth:`staging` directory and what was written to it. Never raises."""
        ...

    def existing(self, ama: str, practice_id: str) -> studio_pb2.PracticeProgress | None:
        """The progress of ``practice_id`` when that practice exists for the ama, else None.

        Used for a retried Practice call (the id derives from the client's request id).

        Raises:
            UnavailableError: the Kubernetes API is unreachable (cluster).
        """
        ...

    async def submit(
        self, ama: str, header: studio_pb2.PracticeHeader, kind: str, staging_uploads: Path, practice_id: str
    ) -> str:
        """Queue a practice whose uploads (``header.uploads``, checked) are in ``staging_uploads``.

        Args:
            header: the Practice call's header (validated by the servicer).
            kind: ``"imitation"``, ``"tuning"`` or ``"feedback"``.
            staging_uploads: a :meth:`staging` directory; the backend takes it over (moves or removes it).
            practice_id: the id to queue it under.

        Returns:
            ``practice_id``. A practice that already exists under that id (a retried call) is not queued twice.

        Raises:
            InvalidRequestError: the practice is not a valid ``Practice`` resource (cluster).
            PreconditionError: the ama's namespace or the Practice CRD is missing (cluster).
            UnavailableError: the Kubernetes API or the object store is unreachable (cluster).
        """
        ...

    def progress(self, ama: str, practice_id: str) -> studio_pb2.PracticeProgress:
        """The practice's phase, message, produced version and metrics now.

        Raises:
            InvalidRequestError: ``practice_id`` is not a practice id.
            NotFoundError: no such practice for this ama.
            UnavailableError: the Kubernetes API is unreachable (cluster).
        """
        ...

    def active_practices(self, ama: str) -> int:
        """How many of the ama's practices are queued or running (the per-tenant limit counts them).

        Raises:
            UnavailableError: the Kubernetes API is unreachable (cluster).
        """
        ...

    async def start(self) -> None:
        """Start background work (the embedded practice scheduler) before the server takes calls."""
        ...

    async def stop(self, grace: float = 10.0) -> None:
        """Stop background work within ``grace`` seconds and release connections (after the last call)."""
        ...


@runtime_checkable
class PracticeWatcher(Protocol):
    """A backend that streams a practice's changes itself (instead of being polled)."""

    def watch(self, ama: str, practice_id: str, *, follow: bool = True) -> AsyncIterator[studio_pb2.PracticeProgress]:
        """The practice's progress now, then (``follow``) once per change until it ends.

        Raises:
            InvalidRequestError: ``practice_id`` is not a practice id.
            NotFoundError: no such practice for this ama.
            UnavailableError: the Kubernetes API is unreachable.
        """
        ...


@runtime_checkable
class PracticeMeasurer(Protocol):
    """A backend that knows how long a finished practice ran (what the usage ledger bills)."""

    device: str
    """Where this backend's practices run: ``"cpu"`` or ``"gpu"`` (the plan counts them apart)."""

    def practice_seconds(self, ama: str, practice_id: str) -> float | None:
        """Elapsed seconds the practice's runners measured, every attempt summed (a resumed practice ran
        several times); 0.0 when it never ran; None while the measurement is not complete yet (a runner
        that reported the end but has not exited): asked again later. Read once the practice is terminal.

        Raises:
            NotFoundError: no such practice for this ama.
            UnavailableError: the Kubernetes API is unreachable (cluster).
        """
        ...


@runtime_checkable
class PracticePreviewer(Protocol):
    """A backend that exposes the previews its running practices write (the embedded backend)."""

    def preview(self, ama: str, practice_id: str, generation: int = 0) -> Bundle:
        """The preview ``generation`` (0: the newest) of the ama's practice, digests verified.

        Raises:
            NotFoundError: no such practice, or it has no such preview (none yet, or a newer one replaced it).
        """
        ...
