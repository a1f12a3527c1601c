"""Shared fixtures and the skip policy.

Every test gets its own Amadeus home so nothing touches the user's data.

No silent skips: every skip is listed at the end of the run, and when ``CI`` is set (or
``--strict-skips`` is given) a skip that no rule of ``tests/allowed_skips.txt`` allows turns
the run's exit status into a failure. A missing system package, a broken import or a
stale guard then fails CI instead of quietly passing it.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ALLOWED_SKIPS = Path(__file__).with_name("allowed_skips.txt")


@pytest.fixture(autouse=True)
def amadeus_home(tmp_path_factory, monkeypatch):
    """A fresh, empty ``$AMADEUS_HOME`` for each test."""
    home = tmp_path_factory.mktemp("amadeus-home")
    monkeypatch.setenv("AMADEUS_HOME", str(home))
    return home


@dataclass(frozen=True)
class SkipRule:
    """One line of ``allowed_skips.txt``: ``<node id prefix> | <reason text> # why``."""

    nodeid_prefix: str
    reason_text: str

    def allows(self, nodeid: str, reason: str) -> bool:
        return nodeid.startswith(self.nodeid_prefix) and self.reason_text in reason


def read_skip_rules(path: Path = ALLOWED_SKIPS) -> list[SkipRule]:
    """The rules of ``path`` (blank lines and ``#`` comments ignored); a malformed line raises ValueError."""
    rules = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        text = line.split("  #", 1)[0].strip()
        if not text or text.startswith("#"):
            continue
        prefix, sep, reason = (part.strip() for part in text.partition("|"))
        if not sep or not prefix or not reason:
            raise ValueError(f"{path}:{number}: expected '<node id prefix> | <reason text>', got {line!r}")
        rules.append(SkipRule(prefix, reason))
    return rules


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--strict-skips",
        action="store_true",
        help="fail the run on any skip that tests/allowed_skips.txt does not allow (the default when CI is set)",
    )


def pytest_terminal_summary(terminalreporter) -> None:
    """The bad-input sweep's generated cases per door, the fault injection's kill points per target."""
    sweep = sys.modules.get("_bad_input")
    if sweep is not None and sweep.CASES:
        terminalreporter.section(f"bad-input sweep: {sum(sweep.CASES.values())} generated cases")
        terminalreporter.write_line(", ".join(f"{door} {n}" for door, n in sorted(sweep.CASES.items())))
    faults = sys.modules.get("_faults")  # tests/support/_faults.py, when the fault injection ran
    if faults is not None and faults.KILLS:
        terminalreporter.section(f"fault injection: {sum(faults.KILLS.values())} kill points survived")
        terminalreporter.write_line(", ".join(f"{target} {n}" for target, n in sorted(faults.KILLS.items())))


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(SkipPolicy(config, read_skip_rules()), "amadeus-skip-policy")


class SkipPolicy:
    """Records every skipped test or module; fails a strict run on one that no rule allows."""

    def __init__(self, config: pytest.Config, rules: list[SkipRule]):
        self.config, self.rules = config, rules
        self.skips: list[tuple[str, str]] = []

    def _record(self, report: pytest.CollectReport | pytest.TestReport) -> None:
        if report.skipped and not hasattr(report, "wasxfail"):
            longrepr = report.longrepr
            reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
            self.skips.append((report.nodeid, reason.removeprefix("Skipped: ")))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self._record(report)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        self._record(report)

    def unallowed(self) -> list[tuple[str, str]]:
        return [(n, r) for n, r in self.skips if not any(rule.allows(n, r) for rule in self.rules)]

    @property
    def strict(self) -> bool:
        return bool(self.config.getoption("strict_skips")) or os.environ.get("CI", "").lower() not in ("", "0", "false")

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.strict and self.unallowed() and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter) -> None:
        unallowed = set(self.unallowed())
        terminalreporter.section(f"skip summary: {len(self.skips)} skipped, {len(unallowed)} not allowed")
        for nodeid, reason in self.skips:
            verdict = "NOT ALLOWED" if (nodeid, reason) in unallowed else "allowed"
            terminalreporter.write_line(f"{verdict:11s} {nodeid}: {reason}")
        if unallowed and self.strict:
            terminalreporter.write_line(
                f"{len(unallowed)} skip(s) not allowed by tests/{ALLOWED_SKIPS.name}: the run fails",
                red=True,
            )
