"""The embedded backend (the default): a local store and practice runner processes.

Practices wait in their work directories (see :mod:`.practices`); a scheduler
loop claims pending ones (an exclusive file create, so several studio
instances on one home never start the same practice twice) and runs each in
its own process (:mod:`.runner`), at most ``workers`` at a time.

Each runner process is measured by the scheduler that starts it (:mod:`.attempts`): its
start, and when it is reaped, its elapsed and CPU seconds (``wait4``), one line per attempt
in ``attempts.jsonl``; :meth:`EmbeddedBackend.practice_seconds` sums them for the ledger.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import threading
from pathlib import Path

from instrument_agent.personality import (
    PREVIEW_DIR,
    Bundle,
    BundleNotFoundError,
    PersonalityError,
    latest_preview,
    read_bundle,
    read_preview,
)
from instrument_agent.personality.store import PersonalityStore
from instrument_agent.proto import studio_pb2
from studio_operator.server.backends.embedded.attempts import attempt_started, practice_seconds, reap_measured
from studio_operator.server.backends.embedded.practices import PracticeWorkspace, tenant_home
from studio_operator.server.errors import InvalidRequestError, NotFoundError, PermissionDeniedError
from studio_operator.server.uploads import check_audio_file

__all__ = ["EmbeddedBackend"]


class EmbeddedBackend:
    """Local store + local practice runner; implements :class:`~studio_operator.server.backend.StudioBackend`
    (polled for progress: not a :class:`~studio_operator.server.backend.PracticeWatcher`) and
    :class:`~studio_operator.server.backend.PracticePreviewer` (a running practice's progress carries
    its newest preview, read from ``<practice>/work/preview``).

    Args:
        home: the studio home (tenants under ``home/tenants/<ama>``).
        workers: practices running at once (the rest wait, PENDING).
        audio_roots: server directories whose audio files may be named by path
            in ``audio_uris`` (none by default: tenants upload their audio).
        runner: the command that runs one practice (tests may replace it).
    """

    name = "embedded"

    def __init__(
        self,
        home: str | Path,
        *,
        workers: int = 1,
        audio_roots=(),
        runner: list[str] | None = None,
        metrics=None,
        device: str = "cpu",
    ):
        self.home = Path(home)
        self.workspace = PracticeWorkspace(self.home)
        self.workers = max(1, int(workers))
        self.audio_roots = [Path(p).resolve() for p in audio_roots]
        self.runner = runner or [sys.executable, "-m", "studio_operator.server.backends.embedded.runner"]
        self.metrics = metrics
        self.device = device
        self._children: dict[str, subprocess.Popen] = {}
        self._task: asyncio.Task | None = None
        self._lock = threading.Lock()  # one scheduling pass at a time (loop thread + worker threads)
        self._stopping = False

    # -- personalities -----------------------------------------------------
    def store(self, ama: str) -> PersonalityStore:
        return PersonalityStore(tenant_home(self.home, ama))

    # -- practices ---------------------------------------------------------
    def check_audio_uri(self, uri: str, field: str) -> None:
        """Only paths under the configured audio roots may be read by reference."""
        path = uri.removeprefix("file://")
        if "://" in path or not path.startswith("/"):
            raise InvalidRequestError(
                f"{field} {uri!r}: the embedded studio reads audio uploads or server paths, "
                f"not {uri.split(':')[0]} URIs"
            )
        resolved = Path(path).resolve()
        if not any(resolved.is_relative_to(root) for root in self.audio_roots):
            raise PermissionDeniedError(f"{field} {uri!r}: outside the studio's audio roots; upload the file instead")
        if not resolved.is_file():
            raise InvalidRequestError(f"{field} {uri!r}: no such file")
        check_audio_file(resolved, f"{field} {uri!r}")

    def staging(self, ama: str) -> Path:
        return self.workspace.staging(ama) / "uploads"

    def discard(self, staging_uploads: Path) -> None:
        self.workspace.discard(staging_uploads.parent)

    def existing(self, ama: str, practice_id: str) -> studio_pb2.PracticeProgress | None:
        try:
            return self.workspace.status(ama, practice_id).to_proto()
        except NotFoundError:
            return None

    async def submit(
        self, ama: str, header: studio_pb2.PracticeHeader, kind: str, staging_uploads: Path, practice_id: str
    ) -> str:
        self.workspace.publish(ama, staging_uploads.parent, practice_id, header, kind)
        self.kick()
        return practice_id

    def progress(self, ama: str, practice_id: str) -> studio_pb2.PracticeProgress:
        progress = self.workspace.status(ama, practice_id).to_proto()
        if progress.phase == studio_pb2.PracticeProgress.RUNNING:
            with contextlib.suppress(PersonalityError):
                info = latest_preview(self._preview_dir(ama, practice_id))
                if info is not None:
                    progress.preview.CopyFrom(
                        studio_pb2.PracticePreview(
                            generation=info.generation, step=info.step, loss=info.loss, digest=info.digest
                        )
                    )
        return progress

    def _preview_dir(self, ama: str, practice_id: str) -> Path:
        return self.workspace.directory(ama, practice_id) / "work" / PREVIEW_DIR

    def preview(self, ama: str, practice_id: str, generation: int = 0) -> Bundle:
        """The practice's preview ``generation`` (0: the newest), from its work directory."""
        preview_dir = self._preview_dir(ama, practice_id)
        info = latest_preview(preview_dir)
        if info is None:
            raise NotFoundError(f"practice {practice_id!r} has no preview yet (one comes every preview_every steps)")
        if generation and generation != info.generation:
            older = preview_dir / f"g{generation:06d}"
            if generation > info.generation or not older.is_dir():
                raise NotFoundError(
                    f"practice {practice_id!r}: preview {generation} is gone; the newest is {info.generation}"
                )
            return read_bundle(older)
        try:
            return read_preview(info)
        except BundleNotFoundError:  # replaced between the pointer and the read: the next one
            return read_preview(latest_preview(preview_dir) or info)

    def active_practices(self, ama: str) -> int:
        return self.workspace.active_count(ama)

    def practice_seconds(self, ama: str, practice_id: str) -> float | None:
        return practice_seconds(self.workspace.directory(ama, practice_id))

    # -- the scheduler -----------------------------------------------------
    def schedule_once(self) -> None:
        """Reap finished runners, fail dead ones, start pending practices while workers are free."""
        with self._lock:
            if not self._stopping:
                self._schedule()

    def _schedule(self) -> None:
        for practice_id, (child, directory) in list(self._children.items()):
            if reap_measured(child, directory):
                del self._children[practice_id]
                self._requeue_if_unstarted(directory)
        self.workspace.reap_stale()
        rows = list(self.workspace.all())
        running = sum(
            1 for _, d, s in rows if s.phase == "RUNNING" or (s.phase == "PENDING" and (d / "claim").exists())
        )
        queued = 0
        for ama, directory, status in rows:
            if status.phase != "PENDING" or (directory / "claim").exists():
                continue
            if running >= self.workers or not self.workspace.claim(directory):
                queued += 1
                continue
            log = open(directory / "runner.log", "ab")
            env = dict(os.environ, PYTHONUNBUFFERED="1")
            self._children[status.practice_id] = (
                subprocess.Popen(
                    [*self.runner, str(directory), str(tenant_home(self.home, ama))],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    env=env,
                ),
                directory,
            )
            attempt_started(directory, self._children[status.practice_id][0].pid)
            log.close()
            running += 1
        if self.metrics is not None:
            self.metrics.practices.labels("queued").set(queued)
            self.metrics.practices.labels("running").set(running)

    def _requeue_if_unstarted(self, directory: Path) -> None:
        """A runner that exited before marking its practice RUNNING gives the claim back."""
        with contextlib.suppress(OSError, ValueError):
            if self.workspace.read_status(directory).phase == "PENDING":
                self.workspace.release(directory)

    def kick(self) -> None:
        with contextlib.suppress(OSError):
            self.schedule_once()

    async def _loop(self, interval: float) -> None:
        while True:
            with contextlib.suppress(OSError):
                await asyncio.to_thread(self.schedule_once)
            await asyncio.sleep(interval)

    async def start(self, interval: float = 0.5) -> None:
        self._task = asyncio.create_task(self._loop(interval))

    async def stop(self, grace: float = 10.0) -> None:
        """Stop scheduling; ask running practices to stop (they go back to the queue to resume later)."""
        with self._lock:
            self._stopping = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for child, _ in self._children.values():
            if child.poll() is None:
                child.terminate()
        for child, directory in self._children.values():
            if not await asyncio.to_thread(reap_measured, child, directory, grace):
                child.kill()
                reap_measured(child, directory, 10.0)
            self._requeue_if_unstarted(directory)
        self._children.clear()
