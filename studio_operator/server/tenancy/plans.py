"""Plans: the limits an ama's plan sets, declared in one YAML file (``plans.yaml`` here by default).

A limit of ``None`` is unlimited. Monthly limits (practice and render minutes) count the ledger
entries of the calendar month in UTC and reset at 00:00 UTC on the first of the next month.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, fields
from pathlib import Path

import yaml

__all__ = ["DEFAULT_PLANS", "UNLIMITED", "Plan", "PlanBook", "PlansFileError", "month_of", "next_month_start"]

DEFAULT_PLANS = Path(__file__).with_name("plans.yaml")
UNLIMITED = "unlimited"


class PlansFileError(ValueError):
    """The plans file is unreadable or a plan is malformed; names the file and plan."""


@dataclass(frozen=True)
class Plan:
    """One plan's limits (None: unlimited).

    Attributes:
        concurrent_practices: practices queued or running at once.
        practice_cpu_minutes / practice_gpu_minutes: practice minutes per month on each device.
        render_minutes: audio minutes rendered per month.
        stored_bytes: bytes kept in total (personalities and practice audio).
        upload_bytes: the uploads of one Practice call.
        requests_per_second / request_burst: the request rate (a token bucket per ama and replica).
    """

    name: str
    concurrent_practices: int | None = None
    practice_cpu_minutes: float | None = None
    practice_gpu_minutes: float | None = None
    render_minutes: float | None = None
    stored_bytes: int | None = None
    upload_bytes: int | None = None
    requests_per_second: float | None = None
    request_burst: float | None = None


_LIMITS = [f.name for f in fields(Plan) if f.name != "name"]


def month_of(when: _dt.datetime) -> str:
    """``YYYY-MM`` of a time, in UTC."""
    return when.astimezone(_dt.UTC).strftime("%Y-%m")


def next_month_start(month: str) -> _dt.datetime:
    """00:00 UTC on the first day after ``month`` (``YYYY-MM``): when its monthly limits reset."""
    year, number = (int(part) for part in month.split("-"))
    year, number = (year + 1, 1) if number == 12 else (year, number + 1)
    return _dt.datetime(year, number, 1, tzinfo=_dt.UTC)


class PlanBook:
    """The plans of one studio, by name, and the plan a new ama gets."""

    def __init__(self, plans: dict[str, Plan], default: str):
        plans = dict(plans)
        plans.setdefault(UNLIMITED, Plan(UNLIMITED))
        if default not in plans:
            raise PlansFileError(f"default plan {default!r} is not one of the plans ({', '.join(sorted(plans))})")
        self.plans, self.default = plans, default

    def __getitem__(self, name: str) -> Plan:
        return self.plans.get(name) or self.plans[UNLIMITED]

    def __contains__(self, name: object) -> bool:
        return name in self.plans

    @classmethod
    def load(cls, path: str | Path | None = None) -> PlanBook:
        """Read a plans file (None: the packaged ``plans.yaml``)."""
        path = Path(path or DEFAULT_PLANS)
        try:
            data = yaml.safe_load(path.read_text()) or {}
        except OSError as exc:
            raise PlansFileError(f"{path}: cannot read plans file ({exc.strerror or exc})") from None
        except yaml.YAMLError as exc:
            raise PlansFileError(f"{path}: not valid YAML ({exc})") from None
        rows = data.get("plans") if isinstance(data, dict) else None
        if not isinstance(rows, dict) or not rows:
            raise PlansFileError(f"{path}: expected a top-level 'plans:' mapping of plan names to limits")
        plans = {}
        for name, limits in rows.items():
            limits = limits or {}
            unknown = sorted(set(limits) - set(_LIMITS)) if isinstance(limits, dict) else ["(not a mapping)"]
            if unknown:
                raise PlansFileError(f"{path}: plan {name!r}: unknown limits {unknown} (known: {', '.join(_LIMITS)})")
            for key, value in limits.items():
                if value is not None and (isinstance(value, bool) or not isinstance(value, int | float) or value < 0):
                    raise PlansFileError(f"{path}: plan {name!r}: {key} must be a number >= 0 or null, not {value!r}")
            plans[str(name)] = Plan(str(name), **limits)
        return cls(plans, str(data.get("default") or next(iter(plans))))
