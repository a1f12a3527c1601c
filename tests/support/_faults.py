"""Fault injection: run a real ``amadeus`` process and kill it (SIGKILL or SIGINT) at a point
chosen by a seeded RNG: after a line of its progress output, plus a delay (:func:`run_and_kill`),
or once a condition on what it wrote is met (:func:`kill_when`). :class:`ServedStudio` is an
``amadeus studio serve`` process that can be SIGKILLed and restarted on the same home and port.

:data:`KILLS` counts the kill points survived per target; the root conftest prints them.
"""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "KILLS",
    "KillPoint",
    "Run",
    "ServedStudio",
    "free_port",
    "kill_when",
    "latest_checkpoint",
    "run_and_kill",
    "spawn",
    "swallowed_ctrl_c",
]

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


def spawn(argv: list[str], env: dict[str, str], log: Path | None = None) -> subprocess.Popen:
    """Start ``python -m instrument_agent.cli <argv>`` in its own session (output to ``log``, or captured)."""
    out = open(log, "ab") if log is not None else subprocess.PIPE  # noqa: SIM115 - the child holds it
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "instrument_agent.cli", *argv],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **env, "PYTHONUNBUFFERED": "1", "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""},
            start_new_session=True,
        )
    finally:
        if log is not None:
            out.close()


def kill_when(
    process: subprocess.Popen, reached: Callable[[], str | None], delay_s: float, *, timeout_s: float = 120
) -> str | None:
    """SIGKILL ``process`` ``delay_s`` after ``reached()`` first names a point (polled every 2 ms).

    Returns the point it was killed at, or None when the process ended first."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return None
        point = reached()
        if point is not None:
            time.sleep(delay_s)
            if process.poll() is not None:
                return None
            process.kill()
            process.wait()
            return point
        time.sleep(0.002)
    process.kill()
    process.wait()
    raise TimeoutError(f"{process.args} ran past {timeout_s} s")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServedStudio:
    """``amadeus studio serve`` on a fixed port and home, that can be SIGKILLed and restarted."""

    def __init__(self, home: Path, tokens: Path, log: Path):
        self.home, self.tokens, self.log, self.port = home, tokens, log, free_port()
        self.process: subprocess.Popen | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> ServedStudio:
        argv = ["studio", "serve", "--host", "127.0.0.1", "--port", str(self.port), "--metrics-port", "-1"]
        argv += ["--tokens", str(self.tokens), "--home", str(self.home)]
        env = {"AMADEUS_HOME": str(self.home.parent / "studio-environment-home")}
        self.process = spawn(argv, env, self.log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"studio server exited: {self.log.read_text()[-3000:]}")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.05)
        self.stop()
        raise TimeoutError(f"studio server did not start within 60 s: {self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL the server (no shutdown hook runs) and wait for it."""
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


def swallowed_ctrl_c() -> None:
    """A real SIGINT to this process, landing in code with a bare ``except`` (as some libraries have)."""
    try:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(1.0)  # the handler runs here
    except BaseException:  # noqa: BLE001, S110 - what the library does
        pass
