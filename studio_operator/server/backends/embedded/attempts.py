"""How long a practice's runner processes ran, measured by the scheduler that started them.

``<practice dir>/attempts.jsonl`` gets one line when a runner starts (``{"pid", "started"}``)
and one when it is reaped (``{"pid", "elapsed_s", "cpu_s"}``: wall seconds since the start,
and user + system CPU seconds from ``wait4``). A resumed practice has several attempts; a
runner whose studio died before reaping it has a start line only, and counts from its start
to the practice's last status update. While a runner that has no end line is still alive (it
wrote its final status but has not exited and been reaped yet) the practice is still being
measured: :func:`practice_seconds` answers None and the ledger asks again later.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import subprocess
import time
from pathlib import Path

__all__ = ["attempt_started", "practice_seconds", "process_exists", "reap_measured"]

_FILE = "attempts.jsonl"


def _append(directory: Path, row: dict) -> None:
    with open(directory / _FILE, "a") as handle:
        handle.write(json.dumps(row) + "\n")


def attempt_started(directory: Path, pid: int) -> None:
    """Record that runner ``pid`` started on ``directory``'s practice now."""
    _append(directory, {"pid": pid, "started": time.time()})


def reap_measured(child: subprocess.Popen, directory: Path, timeout: float = 0.0) -> bool:
    """Reap ``child`` if it exited (waiting up to ``timeout`` s) and record its attempt; True once reaped."""
    deadline = time.monotonic() + timeout
    while child.returncode is None:
        try:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
        except ChildProcessError:  # reaped elsewhere: no measurement
            child.returncode = child.returncode if child.returncode is not None else -1
            return True
        if pid:
            child.returncode = os.waitstatus_to_exitcode(status)
            started = _started(directory, child.pid)
            elapsed = time.time() - started if started is not None else 0.0
            try:
                _append(directory, {"pid": child.pid, "elapsed_s": elapsed, "cpu_s": usage.ru_utime + usage.ru_stime})
            except OSError:
                pass
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


def _rows(directory: Path) -> list[dict]:
    try:
        lines = (directory / _FILE).read_text().splitlines()
    except FileNotFoundError:
        return []
    rows = []
    for line in lines:
        try:
            rows.append(json.loads(line))
        except ValueError:  # a line cut short by a crash
            continue
    return rows


def _started(directory: Path, pid: int) -> float | None:
    starts = [r["started"] for r in _rows(directory) if r.get("pid") == pid and "started" in r]
    return starts[-1] if starts else None


def process_exists(pid: int) -> bool:
    """Whether process ``pid`` exists (signal 0; another user's counts). A zombie counts too: a runner
    that exited but is not reaped yet is still to be measured (:func:`reap_measured` reads its usage)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def practice_seconds(directory: Path) -> float | None:
    """Elapsed seconds over every attempt (0.0: no runner ever started; None: one is still running)."""
    rows = _rows(directory)
    ended = {r["pid"] for r in rows if "elapsed_s" in r}
    if any("started" in r and r["pid"] not in ended and process_exists(int(r["pid"])) for r in rows):
        return None
    total = sum(float(r["elapsed_s"]) for r in rows if "elapsed_s" in r)
    try:
        last = _dt.datetime.fromisoformat(json.loads((directory / "status.json").read_text())["updated"]).timestamp()
    except (OSError, ValueError, KeyError):
        last = time.time()
    for row in rows:
        if "started" in row and row["pid"] not in ended:  # its studio died before reaping it
            total += max(0.0, last - float(row["started"]))
    return total
