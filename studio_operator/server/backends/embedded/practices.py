"""Practice work directories: the embedded backend's durable practice state.

Everything a practice is lives on disk, so any studio instance on the same
home can report or resume it (the server keeps nothing in memory)::

    <tenant home>/practices/<practice id>/
        request.pb      amadeus.v1.PracticeHeader, as received
        uploads/<name>  uploaded audio, complete and checked
        status.json     phase, stage, step, loss, message, version, ... (atomic rewrites)
        claim           created exclusively by the scheduler that starts it
        work/           the runner's work directory (checkpoints, cached features)

A practice directory appears by renaming a fully received staging directory
(``.incoming-*``) into place, so a cancelled or oversized upload leaves nothing.
The tenant home is the studio home itself when authentication is off, else
``<home>/tenants/<ama>``.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import shutil
import socket
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from instrument_agent.personality.atomic import atomic_write
from instrument_agent.proto import personality_pb2, studio_pb2
from studio_operator.server.backends.embedded.attempts import process_exists

__all__ = [
    "ACTIVE_PHASES",
    "TERMINAL_PHASES",
    "PracticeStatus",
    "PracticeWorkspace",
    "new_practice_id",
    "tenant_home",
]

Phase = studio_pb2.PracticeProgress.Phase
TERMINAL_PHASES = ("SUCCEEDED", "FAILED", "CANCELLED")
ACTIVE_PHASES = ("PENDING", "RUNNING")
_STALE_CLAIM_S = 30.0


def tenant_home(home: Path, ama: str) -> Path:
    """Where one ama's store and practices live."""
    return Path(home) if not ama else Path(home) / "tenants" / ama


def new_practice_id(ama: str = "", client_request_id: str = "") -> str:
    """A fresh practice id, or a stable one derived from the client's idempotency key."""
    if client_request_id:
        import hashlib

        return "pr-" + hashlib.sha256(f"{ama}\0{client_request_id}".encode()).hexdigest()[:20]
    return f"pr-{_dt.datetime.now(_dt.UTC):%Y%m%d%H%M%S}-{uuid.uuid4().hex[:8]}"


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat()


@dataclass
class PracticeStatus:
    """The content of ``status.json``."""

    practice_id: str
    deu: str
    type: str  # imitation | tuning | feedback
    phase: str = "PENDING"
    stage: str = ""
    step: int = 0
    total_steps: int = 0
    loss: float = 0.0
    message: str = ""
    version: int = 0
    digest: str = ""
    metrics: dict[str, float] = field(default_factory=dict)
    created: str = field(default_factory=_now)
    updated: str = field(default_factory=_now)
    host: str = ""
    pid: int = 0

    @property
    def terminal(self) -> bool:
        return self.phase in TERMINAL_PHASES

    def to_proto(self) -> studio_pb2.PracticeProgress:
        progress = studio_pb2.PracticeProgress(
            practice_id=self.practice_id,
            deu=self.deu,
            type=personality_pb2.PracticeRecord.Kind.Value(self.type.upper()) if self.type else 0,
            phase=Phase.Value(self.phase),
            stage=self.stage,
            step=self.step,
            total_steps=self.total_steps,
            loss=self.loss,
            message=self.message,
            version=self.version,
            digest=self.digest,
        )
        progress.metrics.update({k: float(v) for k, v in self.metrics.items()})
        progress.updated.FromJsonString(self.updated.replace("+00:00", "Z"))
        return progress


def _write_json(path: Path, data: dict) -> None:
    atomic_write(path, json.dumps(data))


def _pid_alive(pid: int) -> bool:
    """Whether runner ``pid`` still runs: it exists and is not a zombie child of this process (reaped here)."""
    if not process_exists(pid):
        return False
    try:  # a zombie child of this process counts as dead
        waited, _ = os.waitpid(pid, os.WNOHANG)
        return waited == 0
    except ChildProcessError:
        return True


class PracticeWorkspace:
    """The practices of every tenant under one studio home."""

    def __init__(self, home: str | Path):
        self.home = Path(home)

    # -- paths ------------------------------------------------------------
    def root(self, ama: str) -> Path:
        return tenant_home(self.home, ama) / "practices"

    def directory(self, ama: str, practice_id: str) -> Path:
        if not practice_id.startswith("pr-") or "/" in practice_id or ".." in practice_id:
            from studio_operator.server.errors import InvalidRequestError

            raise InvalidRequestError(f"practice_id {practice_id!r} is not a practice id (pr-…)")
        return self.root(ama) / practice_id

    # -- creating ---------------------------------------------------------
    def staging(self, ama: str) -> Path:
        """A fresh hidden staging directory for an incoming practice."""
        root = self.root(ama)
        root.mkdir(parents=True, exist_ok=True)
        path = root / f".incoming-{uuid.uuid4().hex}"
        (path / "uploads").mkdir(parents=True)
        return path

    def publish(self, ama: str, staging: Path, practice_id: str, header: studio_pb2.PracticeHeader, kind: str) -> Path:
        """Write the request and PENDING status into ``staging`` and rename it into place."""
        (staging / "request.pb").write_bytes(header.SerializeToString())
        _write_json(staging / "status.json", asdict(PracticeStatus(practice_id, header.deu, kind)))
        destination = self.directory(ama, practice_id)
        os.rename(staging, destination)
        return destination

    def discard(self, staging: Path) -> None:
        shutil.rmtree(staging, ignore_errors=True)

    # -- reading ----------------------------------------------------------
    @staticmethod
    def read_status(directory: Path) -> PracticeStatus:
        data = json.loads((directory / "status.json").read_text())
        return PracticeStatus(**{k: v for k, v in data.items() if k in PracticeStatus.__dataclass_fields__})

    def status(self, ama: str, practice_id: str) -> PracticeStatus:
        from studio_operator.server.errors import NotFoundError

        directory = self.directory(ama, practice_id)
        if not (directory / "status.json").is_file():
            raise NotFoundError(f"no practice {practice_id!r} for this ama")
        return self.read_status(directory)

    def tenants(self) -> list[str]:
        amas = [""] if (self.home / "practices").is_dir() else []
        tenants = self.home / "tenants"
        if tenants.is_dir():
            amas += sorted(p.name for p in tenants.iterdir() if (p / "practices").is_dir())
        return amas

    def all(self, ama: str | None = None) -> Iterator[tuple[str, Path, PracticeStatus]]:
        """(ama, directory, status) of every practice (of one ama), oldest first."""
        rows = []
        for who in self.tenants() if ama is None else [ama]:
            root = self.root(who)
            if not root.is_dir():
                continue
            for directory in root.iterdir():
                if directory.name.startswith("pr-"):
                    with contextlib.suppress(OSError, ValueError, TypeError):
                        rows.append((who, directory, self.read_status(directory)))
        rows.sort(key=lambda row: row[2].created)
        return iter(rows)

    def active_count(self, ama: str) -> int:
        return sum(1 for _, _, status in self.all(ama) if status.phase in ACTIVE_PHASES)

    # -- running ----------------------------------------------------------
    @staticmethod
    def update(directory: Path, **fields) -> PracticeStatus:
        """Rewrite fields of ``status.json`` atomically."""
        status = PracticeWorkspace.read_status(directory)
        for key, value in fields.items():
            setattr(status, key, value)
        status.updated = _now()
        _write_json(directory / "status.json", asdict(status))
        return status

    @staticmethod
    def claim(directory: Path) -> bool:
        """Take the practice for this process (exclusive file create); False if already taken."""
        try:
            fd = os.open(directory / "claim", os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(fd, "w") as handle:
            handle.write(f"{socket.gethostname()} {os.getpid()} {_now()}\n")
        return True

    @staticmethod
    def release(directory: Path) -> None:
        """Give a claimed practice back to the queue (its runner was stopped)."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(directory / "claim")

    def reap_stale(self) -> list[str]:
        """Fail practices whose runner died on this host without saying so; returns their ids."""
        host = socket.gethostname()
        failed = []
        for _, directory, status in self.all():
            if status.phase != "RUNNING" or status.host != host or not status.pid or _pid_alive(status.pid):
                continue
            self.update(directory, phase="FAILED", message=status.message or "the practice runner exited unexpectedly")
            failed.append(status.practice_id)
        return failed
