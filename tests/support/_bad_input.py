"""The bad-input sweep's shared checks: run a door, count the case, prove nothing was changed.

Every generated case goes through a real door (``amadeus play``, ``amadeus practice
imitation``, the personality store, the CRD validator, the studio's gRPC API) and asserts:
no traceback escapes, the error names the input and the problem, the exit code or gRPC
status is the documented one, and the store and the user's files hash the same before and
after. :data:`CASES` counts the cases per door; the root conftest prints the counts.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, settings

__all__ = ["CASES", "SWEEP", "count", "run_cli", "squash", "tree_digest"]

#: Generated cases per door in this run.
CASES: Counter[str] = Counter()

#: The sweep's hypothesis settings: the same cases on every run (derandomized, no example
#: database), no per-example deadline (the first case of a door pays its imports), and the
#: function-scoped fixtures each test shares between its cases are set up once on purpose.
SWEEP = settings(
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


def count(door: str) -> None:
    """Count one generated case at ``door``."""
    CASES[door] += 1


def tree_digest(*roots: Path) -> dict[str, str]:
    """``{path: sha256}`` of every file under ``roots`` (a link reads as its target, a folder as "dir")."""
    out: dict[str, str] = {}
    for root in roots:
        if not os.path.lexists(root):
            continue
        paths = [Path(root)] if not Path(root).is_dir() else [Path(root), *sorted(Path(root).rglob("*"))]
        for path in paths:
            if path.is_symlink():
                out[str(path)] = "link:" + os.readlink(path)
            elif path.is_dir():
                out[str(path)] = "dir"
            else:
                out[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def squash(text: str) -> str:
    """``text`` without whitespace (rich wraps long lines at the console width)."""
    return "".join(text.split())


def run_cli(argv: list[str]) -> tuple[int, str]:
    """``amadeus <argv>`` in-process: (exit code, what it printed on stderr and stdout).

    An exception escaping :func:`instrument_agent.cli.main` is a crash: it propagates.
    """
    from instrument_agent.cli import main

    captured = io.StringIO()
    with contextlib.redirect_stderr(captured), contextlib.redirect_stdout(captured):
        code = main(argv)
    return code, captured.getvalue()
