"""The boundary every run backend (KFP, Job) implements."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol

from studio_operator.operator.practice import PracticeRequest

__all__ = [
    "BackendUnavailableError",
    "RunBackend",
    "RunNotFoundError",
    "RunState",
    "RunStatus",
    "SubmitRejectedError",
]


class BackendUnavailableError(RuntimeError):
    """The backend's API could not be reached or answered 5xx: retry later, the practice is not failed."""


class SubmitRejectedError(RuntimeError):
    """The backend refused the run for good (4xx, a pipeline that does not compile): the practice fails."""


class RunNotFoundError(LookupError):
    """The run id recorded in a Practice's status no longer exists in the backend."""


class RunState(enum.Enum):
    PENDING = "Pending"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    CANCELLED = "Cancelled"

    @property
    def finished(self) -> bool:
        return self in (RunState.SUCCEEDED, RunState.FAILED, RunState.CANCELLED)


@dataclass(frozen=True)
class RunStatus:
    run_id: str
    state: RunState
    message: str = ""


class RunBackend(Protocol):
    """Runs practices. Every method is blocking (the operator calls it in a thread).

    ``submit`` must be idempotent on ``request.run_name``: when a run of that
    name exists it is returned and nothing new is submitted.
    """

    name: str

    def submit(self, request: PracticeRequest) -> RunStatus: ...

    def status(self, request: PracticeRequest, run_id: str) -> RunStatus: ...

    def cancel(self, request: PracticeRequest, run_id: str) -> None: ...
