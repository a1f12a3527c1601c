"""Where the agent gets a running practice's previews: a studio, or a work directory on this machine.

Both implement :class:`PreviewSource`: ``latest()`` says which preview is newest (a
:class:`~instrument_agent.personality.PreviewInfo`, or None), ``fetch(info)`` returns its
verified bundle. A preview is never a personality version (see
:mod:`instrument_agent.personality.preview`): it is not synced into the store, only
downloaded into ``<data>/downloads/previews/`` and played.

* :class:`StudioPreviews`: through the studio's ``WatchPractice`` (its progress carries the
  newest preview's generation) and ``DownloadPracticePreview``;
* :class:`LocalPreviews`: an embedded practice's ``<work>/preview`` folder on this machine.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from instrument_agent.client.perform_stream import StudioClientError, wrap_rpc_error
from instrument_agent.personality import (
    PREVIEW_DIR,
    Bundle,
    BundleCorruptError,
    PreviewInfo,
    latest_preview,
    read_preview,
    sha256_bytes,
    unpack_bundle,
)
from instrument_agent.proto import studio_pb2

if TYPE_CHECKING:
    from instrument_agent.client.studio_client import StudioClient

__all__ = ["LocalPreviews", "PreviewSource", "StudioPreviews", "download_preview", "preview_of"]


@runtime_checkable
class PreviewSource(Protocol):
    """The previews of one practice."""

    def latest(self) -> PreviewInfo | None:
        """The newest preview, or None when there is none yet."""
        ...

    def fetch(self, info: PreviewInfo) -> Bundle:
        """The preview's bundle, every digest verified."""
        ...


def preview_of(progress: studio_pb2.PracticeProgress) -> PreviewInfo | None:
    """The preview a ``PracticeProgress`` announces (None when it has none)."""
    if not progress.HasField("preview") or not progress.preview.generation:
        return None
    p = progress.preview
    return PreviewInfo(p.generation, p.step, float(p.loss), p.digest, Path(), progress.deu)


def download_preview(client: StudioClient, practice_id: str, destination: str | Path, *, generation: int = 0) -> Bundle:
    """Download a practice's preview through a :class:`~instrument_agent.client.StudioClient` and
    unpack it (verified) into ``destination`` (replaced when it exists: a preview is not kept).

    Raises :class:`StudioClientError` (NOT_FOUND: no such preview; UNIMPLEMENTED: the studio
    has no previews) and :class:`~instrument_agent.personality.BundleCorruptError`.
    """
    import grpc  # type: ignore[import-untyped]

    request = studio_pb2.DownloadPracticePreviewRequest(practice_id=practice_id, generation=generation)
    parts: list[bytes] = []
    last = None
    try:
        for chunk in client._stub.DownloadPracticePreview(request, metadata=client._metadata, timeout=client.timeout):
            if chunk.offset != sum(len(p) for p in parts):
                raise StudioClientError(f"studio sent preview bytes at {chunk.offset}, out of order")
            parts.append(chunk.data)
            last = chunk
    except grpc.RpcError as exc:
        raise wrap_rpc_error(exc) from None
    if last is None:
        raise StudioClientError(f"practice {practice_id!r}: the studio sent no preview")
    data = b"".join(parts)
    if len(data) != last.total_size or sha256_bytes(data) != last.packed_sha256:
        raise BundleCorruptError(f"{destination}: downloaded preview does not match the studio's sha256")
    destination = Path(destination)
    if destination.exists():
        shutil.rmtree(destination)
    return unpack_bundle(data, destination, expected_digest=last.digest)


class StudioPreviews:
    """A practice's previews through a studio.

    Args:
        open_client: ``() -> StudioClient`` (a new client per call; closed after).
        practice_id: the practice.
        downloads: where previews are unpacked (``<data>/downloads/previews``).
    """

    def __init__(self, open_client: Callable, practice_id: str, downloads: str | Path):
        self.open_client = open_client
        self.practice_id = practice_id
        self.downloads = Path(downloads)
        self.announced: PreviewInfo | None = None  # set by a watcher that already reads the progress

    def latest(self) -> PreviewInfo | None:
        if self.announced is not None:
            return self.announced
        client = self.open_client()
        try:
            progress = next(iter(client.watch(self.practice_id, follow=False)))
        finally:
            getattr(client, "close", lambda: None)()
        return preview_of(progress)

    def fetch(self, info: PreviewInfo) -> Bundle:
        client = self.open_client()
        try:
            return download_preview(
                client,
                self.practice_id,
                self.downloads / f"{self.practice_id}-g{info.generation:06d}",
                generation=info.generation,
            )
        finally:
            getattr(client, "close", lambda: None)()
            for old in self.downloads.glob(f"{self.practice_id}-g*"):
                if old.name < f"{self.practice_id}-g{info.generation:06d}":
                    shutil.rmtree(old, ignore_errors=True)


class LocalPreviews:
    """An embedded practice's previews: ``work_dir`` is its work directory (or its ``preview`` folder)."""

    def __init__(self, work_dir: str | Path):
        work_dir = Path(work_dir)
        self.preview_dir = work_dir if work_dir.name == PREVIEW_DIR else work_dir / PREVIEW_DIR

    def latest(self) -> PreviewInfo | None:
        return latest_preview(self.preview_dir)

    def fetch(self, info: PreviewInfo) -> Bundle:
        return read_preview(info)
