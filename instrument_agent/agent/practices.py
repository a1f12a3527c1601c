"""Practices the agent started, followed in the background.

Each practice is started on the selected studio (audio uploaded by the studio
client) and then followed with ``WatchPractice``; every progress message
updates its row, which the UI and ``amadeus status`` show. When the studio
can't be reached the follower retries with backoff; when a practice ends
``on_finished`` is called (the agent then syncs the new version at once).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

__all__ = ["MAX_LOSS_POINTS", "PracticeBoard", "PracticeRow", "TERMINAL_PHASES"]

TERMINAL_PHASES = ("SUCCEEDED", "FAILED", "CANCELLED")
MAX_LOSS_POINTS = 1000


@dataclass
class PracticeRow:
    """One practice as the UI shows it. ``progress`` is 0..1 (training steps done); ``losses`` is the
    loss curve so far, ``[[step, loss], …]`` (one point per reported step, at most :data:`MAX_LOSS_POINTS`:
    beyond that every other point is dropped, the newest kept)."""

    practice_id: str
    deu: str
    type: str
    phase: str = "PENDING"
    stage: str = ""
    step: int = 0
    total_steps: int = 0
    loss: float | None = None
    message: str = ""
    version: int = 0
    digest: str = ""
    preview_generation: int = 0  # the newest preview of the personality-in-training (0: none yet)
    preview_step: int = 0
    files: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.time)
    losses: list[list[float]] = field(default_factory=list)

    @property
    def running(self) -> bool:
        return self.phase not in TERMINAL_PHASES

    @property
    def progress(self) -> float:
        if self.phase == "SUCCEEDED":
            return 1.0
        return min(self.step / self.total_steps, 1.0) if self.total_steps else 0.0

    def to_dict(self) -> dict:
        return {**asdict(self), "running": self.running, "progress": self.progress}


def _kind_name(progress) -> str:
    from instrument_agent.proto import personality_pb2

    return personality_pb2.PracticeRecord.Kind.Name(progress.type).lower() if progress.type else "imitation"


def _phase_name(progress) -> str:
    from instrument_agent.proto import studio_pb2

    return studio_pb2.PracticeProgress.Phase.Name(progress.phase)


class PracticeBoard:
    """Starts practices on a studio and follows them.

    Args:
        open_client: ``() -> client`` for the selected studio (a new client per call).
        on_finished: called with the final :class:`PracticeRow` of every practice that ends.
        on_progress: called as ``on_progress(row, progress)`` for every ``PracticeProgress`` received
            (how the agent learns of a new preview without a second watch).
        retry_s: first delay before re-following a practice after a lost connection (doubles, ≤ 30 s).
    """

    def __init__(
        self,
        open_client: Callable,
        on_finished: Callable[[PracticeRow], None] | None = None,
        *,
        retry_s: float = 1.0,
        on_progress: Callable | None = None,
    ):
        self.open_client = open_client
        self.on_finished = on_finished
        self.on_progress = on_progress
        self.retry_s = retry_s
        self._rows: dict[str, PracticeRow] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def start(
        self, deu: str, audio: list[Path], *, steps: int = 0, kind: str = "imitation", learner_profile=None
    ) -> PracticeRow:
        """Upload ``audio`` and start a practice of ``deu``.

        ``learner_profile`` (a ``LearnerProfile``; its non-zero fields) and ``steps`` > 0
        override the studio's learnerProfile. Raises the client's errors (translated by the
        caller) before anything is tracked.
        """
        from instrument_agent.proto import personality_pb2

        learner = personality_pb2.LearnerProfile()
        if learner_profile is not None:
            learner.CopyFrom(learner_profile)
        if steps:
            learner.steps = int(steps)
        learner = learner if learner.ListFields() else None
        client = self.open_client()
        try:
            ticket = client.practice(deu, kind, audio=[Path(p) for p in audio], learner_profile=learner)
        finally:
            _close(client)
        row = PracticeRow(practice_id=ticket.practice_id, deu=deu, type=kind, files=[Path(p).name for p in audio])
        with self._lock:
            self._rows[row.practice_id] = row
        threading.Thread(
            target=self._follow, args=(row,), name=f"amadeus-practice-{row.practice_id}", daemon=True
        ).start()
        return row

    def follow(self, practice_id: str) -> PracticeRow:
        """Follow a practice started elsewhere (another agent, ``amadeus studio practice``) like one
        started here: its row, progress, and ``on_finished`` (a sync) when it ends. Raises the
        client's errors (NOT_FOUND...) before anything is tracked."""
        client = self.open_client()
        try:
            first = next(iter(client.watch(practice_id, follow=False)))
        finally:
            _close(client)
        kind = _kind_name(first)
        row = PracticeRow(practice_id=practice_id, deu=first.deu, type=kind)
        self._update(row, first)
        with self._lock:
            self._rows.setdefault(practice_id, row)
            row = self._rows[practice_id]
        threading.Thread(target=self._follow, args=(row,), name=f"amadeus-practice-{practice_id}", daemon=True).start()
        return row

    def _follow(self, row: PracticeRow) -> None:
        delay = self.retry_s
        while not self._stop.is_set() and row.running:
            try:
                client = self.open_client()
                try:
                    for progress in client.watch(row.practice_id, follow=True):
                        self._update(row, progress)
                        if self.on_progress is not None:
                            self.on_progress(row, progress)
                        delay = self.retry_s
                        if not row.running or self._stop.is_set():
                            break
                finally:
                    _close(client)
            except Exception as exc:  # noqa: BLE001 - the studio went away: say so, retry
                with self._lock:
                    row.message = f"lost contact with the studio ({_short(exc)}); retrying"
                self._stop.wait(delay)
                delay = min(delay * 2, 30.0)
        if not row.running and self.on_finished is not None:
            self.on_finished(row)

    def _update(self, row: PracticeRow, progress) -> None:
        with self._lock:
            row.phase = _phase_name(progress)
            row.stage = progress.stage
            row.step = progress.step
            row.total_steps = progress.total_steps
            if progress.step and progress.loss:  # the final message (published) carries no loss: keep the last
                row.loss = float(progress.loss)
            if progress.step and progress.loss and (not row.losses or row.losses[-1][0] < progress.step):
                row.losses.append([int(progress.step), float(progress.loss)])
                if len(row.losses) > MAX_LOSS_POINTS:
                    row.losses[:] = row.losses[-1::-2][::-1]
            row.message = progress.message
            row.version = progress.version
            row.digest = progress.digest
            if progress.preview.generation:
                row.preview_generation = progress.preview.generation
                row.preview_step = progress.preview.step

    def rows(self) -> list[dict]:
        """Every practice this agent started, newest first."""
        with self._lock:
            return [row.to_dict() for row in sorted(self._rows.values(), key=lambda r: -r.started)]

    @property
    def running(self) -> list[PracticeRow]:
        with self._lock:
            return [row for row in self._rows.values() if row.running]

    def stop(self) -> None:
        self._stop.set()


def _close(client) -> None:
    close = getattr(client, "close", None)
    if close is not None:
        close()


def _short(exc: BaseException) -> str:
    details = getattr(exc, "details", None)
    if callable(details):
        try:
            return str(details())
        except Exception:  # noqa: BLE001
            pass
    return str(exc) or type(exc).__name__
