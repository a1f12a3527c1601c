"""Helpers for the agent and sync tests: a studio-side personality source backed by a
real local store (the edge that stands in for the gRPC studio where a test is about the
agent's scheduling, not the wire), plus what the tests against a real studio server share
(its token, installing a version in its store, a Ctrl-C after the first chunk). A cut
download and a damaged one are tested against the real server (the ``real_studio`` fixture
in tests/instrument_agent/conftest.py)."""

from __future__ import annotations

import os
from pathlib import Path

from instrument_agent.client.studio_client import StudioClientError
from instrument_agent.personality import pack_bundle, sha256_bytes
from instrument_agent.personality.store import PersonalityStore
from instrument_agent.proto import studio_pb2

STUDIO_TOKEN = "alice-sync-token-0123456789abcdef"
"""alice's bearer token on the ``real_studio`` fixture's server."""


def install_version(store: PersonalityStore, bundle):
    """Commit ``bundle`` (a test-made personality) into a studio's ``store`` as a new cello version."""
    files = {entry.path: bundle.path / entry.path for entry in bundle.manifest.files}
    return store.commit("cello", bundle.manifest, files)


def interrupt_after_first_chunk(deu: str, done: int, total: int) -> None:
    """A sync progress callback that presses Ctrl-C once the first chunk of a download arrived."""
    if done < total:
        raise KeyboardInterrupt


class StoreSource:
    """Serves a studio's :class:`PersonalityStore` with the studio messages sync consumes.

    Args:
        store: the studio's store.
        chunk_size: bytes per BundleChunk.
    """

    def __init__(self, store: PersonalityStore, *, chunk_size: int = 4096):
        self.store = store
        self.chunk_size = chunk_size
        self.offsets: list[int] = []  # every download's starting offset
        self.closed = 0

    def _archive(self, deu: str, version: int) -> tuple[bytes, str]:
        bundle = self.store.get(deu, version or None)
        return pack_bundle(bundle), bundle.digest

    def list_personalities(self, deu: str = ""):
        names = [deu] if deu else self.store.deus()
        return [
            studio_pb2.PersonalityVersion(
                deu=i.deu,
                version=i.version,
                digest=i.digest,
                parent_version=i.parent_version,
                practice=i.practice,
                created=i.created,
            )
            for name in names
            for i in self.store.versions(name)
        ]

    def get_personality(self, deu: str, version: int = 0, digest: str = ""):
        data, bundle_digest = self._archive(deu, version)
        info = self.store.info(deu, version or None)
        return studio_pb2.PersonalityInfo(
            version=studio_pb2.PersonalityVersion(deu=deu, version=info.version, digest=bundle_digest),
            packed_size=len(data),
            packed_sha256=sha256_bytes(data),
        )

    def download_archive(self, deu: str, archive, *, version: int = 0, digest: str = "", progress=None):
        """Like the studio client's: append to ``archive.part`` from its size, check the sha256, rename."""
        data, bundle_digest = self._archive(deu, version)
        packed = sha256_bytes(data)
        archive = Path(archive)
        part = archive.with_name(archive.name + ".part")
        offset = part.stat().st_size if part.exists() else 0
        self.offsets.append(offset)
        with open(part, "ab") as handle:
            for start in range(offset, len(data), self.chunk_size):
                piece = data[start : start + self.chunk_size]
                handle.write(piece)
                handle.flush()
                if progress is not None:
                    progress(start + len(piece), len(data))
        if sha256_bytes(part.read_bytes()) != packed:
            part.unlink()
            raise StudioClientError(f"{archive}: downloaded bundle does not match the studio's sha256; download again")
        os.replace(part, archive)
        return studio_pb2.BundleChunk(total_size=len(data), packed_sha256=packed, digest=bundle_digest, version=version)

    def close(self):
        self.closed += 1


class PracticingStudio(StoreSource):
    """A StoreSource that also takes practices: each one reports a few training steps
    and then publishes a new version (a copy of ``template``) into the studio store."""

    def __init__(self, store: PersonalityStore, template, *, steps: int = 4, step_s: float = 0.15, **kwargs):
        super().__init__(store, **kwargs)
        self.template = template
        self.steps = steps
        self.step_s = step_s
        self.uploads: list[tuple[str, bytes]] = []
        self._count = 0

    def practice(self, deu, practice_type="imitation", *, audio=(), learner_profile=None, **kwargs):
        for path in audio:
            self.uploads.append((Path(path).name, Path(path).read_bytes()))
        self._count += 1
        return studio_pb2.PracticeTicket(practice_id=f"pr-{self._count}", phase=studio_pb2.PracticeProgress.PENDING)

    def watch(self, practice_id, *, follow=True):
        import time

        Phase = studio_pb2.PracticeProgress.Phase
        deu = "cello"
        yield studio_pb2.PracticeProgress(
            practice_id=practice_id, deu=deu, phase=Phase.Value("PENDING"), stage="ingest"
        )
        for step in range(1, self.steps + 1):
            time.sleep(self.step_s)
            yield studio_pb2.PracticeProgress(
                practice_id=practice_id,
                deu=deu,
                phase=Phase.Value("RUNNING"),
                stage="train",
                step=step,
                total_steps=self.steps,
                loss=1.0 / step,
            )
        files = {entry.path: self.template.path / entry.path for entry in self.template.manifest.files}
        bundle = self.store.commit(deu, self.template.manifest, files)
        yield studio_pb2.PracticeProgress(
            practice_id=practice_id,
            deu=deu,
            phase=Phase.Value("SUCCEEDED"),
            stage="push",
            step=self.steps,
            total_steps=self.steps,
            version=bundle.version,
            digest=bundle.digest,
        )
