"""Fault injection: run a real ``amadeus`` process and kill it (SIGKILL or SIGINT) at a point
chosen by a seeded RNG: after a line of its progress output, plus a delay.

:data:`KILLS` counts the kill points survived per target; the root conftest prints them.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["KILLS", "KillPoint", "Run", "latest_checkpoint", "run_and_kill"]

#: Kill points survived in this run, per target.
KILLS: Counter[str] = Counter()


@dataclass(frozen=True)
class KillPoint:
    """Send ``sig`` ``delay_s`` seconds after the first output line starting with ``after``
    (``""``: after the start)."""

    after: str
    delay_s: float
    sig: signal.Signals

    def describe(self) -> str:
        return f"{self.sig.name} {self.delay_s:.1f} s after {self.after or 'the start'!r}"


@dataclass
class Run:
    """What one process did: ``killed`` (by the kill point) or its exit code, and its output."""

    killed: bool
    returncode: int | None
    lines: list[str] = field(default_factory=list)

    @property
    def output(self) -> str:
        return "".join(self.lines)


def run_and_kill(argv: list[str], env: dict[str, str], point: KillPoint | None, *, timeout_s: float = 400) -> Run:
    """Run ``python -m instrument_agent.cli <argv>``; kill it at ``point`` unless it ended first."""
    process = subprocess.Popen(
        [sys.executable, "-m", "instrument_agent.cli", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **env, "PYTHONUNBUFFERED": "1", "TF_CPP_MIN_LOG_LEVEL": "3"},
        start_new_session=True,
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    run = Run(killed=False, returncode=None)
    deadline = time.monotonic() + timeout_s
    fire_at = time.monotonic() + point.delay_s if point is not None and not point.after else None
    try:
        while time.monotonic() < deadline:
            wait = 1.0 if fire_at is None else max(0.0, fire_at - time.monotonic())
            try:
                line = lines.get(timeout=wait)
            except queue.Empty:
                line = ""
            if line is None:
                run.returncode = process.wait()
                return run
            if line:
                run.lines.append(line)
                if point is not None and fire_at is None and line.strip().startswith(point.after):
                    fire_at = time.monotonic() + point.delay_s
            if fire_at is not None and time.monotonic() >= fire_at and process.poll() is None:
                assert point is not None
                process.send_signal(point.sig)
                try:
                    process.wait(timeout=90)  # SIGINT: the practice saves a checkpoint and exits 130
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
                while (rest := lines.get()) is not None:
                    run.lines.append(rest)
                run.killed, run.returncode = True, process.returncode
                return run
        raise TimeoutError(f"amadeus {' '.join(argv)} ran past {timeout_s} s:\n{''.join(run.lines)}")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def latest_checkpoint(checkpoints: Path) -> int:
    """The step of the newest training checkpoint in ``checkpoints`` (0: none)."""
    state = checkpoints / "checkpoint"
    if not state.is_file():
        return 0
    for line in state.read_text().splitlines():
        if line.startswith("model_checkpoint_path:"):
            return int(line.split('"')[1].rsplit("-", 1)[1])
    return 0
