"""The embedded practice runner: one practice, in its own process.

Run as ``python -m studio_operator.server.backends.embedded.runner <practice dir> <tenant home>``
(the studio's scheduler does this). It marks the practice RUNNING, builds a typed
:class:`pipelines.practice.PracticeRequest` from the practice's ``request.pb``
(:func:`practice_request`), runs it with :func:`pipelines.practice.run_practice` against the
ama's own store (the tenant home), and writes progress and the outcome to ``status.json``.
A new personality version becomes visible only through the store's atomic commit, so a
failed or interrupted practice never leaves a partial version. A practice that fails reports
the error's own sentence (:func:`ama_message`), never a Python exception repr. SIGTERM (a
studio shutting down) puts the practice back in the queue: the next runner resumes from the
step markers and checkpoints in ``work/``.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

from instrument_agent.proto import personality_pb2, studio_pb2
from studio_operator.server.backends.embedded.practices import PracticeWorkspace

if TYPE_CHECKING:  # the perform sessions import merge_overrides from here without loading pipelines
    from pipelines.practice import PracticeRequest

__all__ = ["PracticeInterrupted", "ama_message", "execute", "main", "merge_overrides", "practice_request"]

Kind = personality_pb2.PracticeRecord.Kind


class PracticeInterrupted(BaseException):
    """The runner was asked to stop (SIGTERM); the practice goes back to the queue."""


def merge_overrides(base, overrides):
    """``base`` with the non-zero fields of ``overrides`` applied (proto3 merge).

    A playerProfile override with ``configured=True`` replaces the base whole.
    """
    if overrides is None or not overrides.ListFields():
        merged = type(base)()
        merged.CopyFrom(base)
        return merged
    if getattr(overrides, "configured", False):
        merged = type(overrides)()
        merged.CopyFrom(overrides)
        return merged
    merged = type(base)()
    merged.CopyFrom(base)
    merged.MergeFrom(overrides)
    if "configured" in merged.DESCRIPTOR.fields_by_name:
        merged.configured = True
    return merged


def _changes(profile) -> dict[str, Any] | None:
    """A header's profile override as fields to change: every field when it is ``configured``
    (it replaces the profile whole), else the fields it sets; None when it sets none."""
    from google.protobuf import json_format

    if not profile.ListFields():
        return None
    return json_format.MessageToDict(
        profile, preserving_proto_field_name=True, always_print_fields_with_no_presence=bool(profile.configured)
    )


def _base_learner(store, deu: str, base_version: int):
    from instrument_agent.personality import UnknownDeuError
    from instrument_agent.profiles import default_learner_profile

    try:
        return store.get(deu, base_version or None, verify=False).manifest.learner_profile
    except UnknownDeuError:
        return default_learner_profile()


def practice_request(directory: Path, home: Path, progress=None) -> tuple[str, PracticeRequest]:
    """The practice kind and the typed request of the practice in ``directory`` (its ``request.pb``).

    Uploads are read from ``directory/uploads``, ``audio_uris`` as server paths; the work
    directory is ``directory/work``; an imitation's learnerProfile is the header's over the
    parent's (or the defaults); a tuning's profiles and every playerProfile are changes over
    the parent's; regions become :class:`pipelines.feedback.Region` objects; the feedback method
    (empty = ``auto``) and fine-tune budget (0 = the default) are the header's.
    """
    from instrument_agent.personality.store import PersonalityStore
    from pipelines.feedback import Region
    from pipelines.practice import PracticeRequest

    header = studio_pb2.PracticeHeader()
    header.ParseFromString((directory / "request.pb").read_bytes())
    if header.type not in (Kind.IMITATION, Kind.TUNING, Kind.FEEDBACK):
        raise ValueError(f"practice type {header.type} is not imitation, tuning or feedback")
    kind = Kind.Name(header.type).lower()
    uploads = {d.name: directory / "uploads" / d.name for d in header.uploads}
    audio = [str(p) for name, p in uploads.items() if name != header.performance]
    audio += [uri.removeprefix("file://") for uri in header.audio_uris]
    if kind == "imitation":
        base = _base_learner(PersonalityStore(home), header.deu, header.base_version)
        learner = merge_overrides(base, header.learner_profile)
    else:
        learner = _changes(header.learner_profile)
    performance = ""
    if header.performance:
        performance = str(uploads.get(header.performance, header.performance.removeprefix("file://")))
    regions = [
        Region(float(r.start_s), float(r.end_s), studio_pb2.FeedbackRegion.Label.Name(r.label).lower())
        for r in header.regions
    ]
    work = directory / "work"
    work.mkdir(exist_ok=True)
    request = PracticeRequest(
        header.deu,
        audio=audio,
        learner_profile=learner,
        player_profile=_changes(header.player_profile),
        base_version=header.base_version,
        performance=performance,
        regions=regions,
        feedback_method=header.feedback_method or "auto",
        finetune_steps=header.finetune_steps or None,
        practice_id=directory.name,
        runner="embedded",
        work_dir=work,
        progress=progress or False,
    )
    return kind, request


def execute(directory: Path, home: Path, progress=None) -> tuple[int, str, dict]:
    """Run the practice in ``directory`` against the ama's store at ``home`` (the tenant home).

    Returns ``(version, digest, metrics)`` of the new personality.
    """
    from pipelines.practice import run_practice

    kind, request = practice_request(directory, home, progress)
    result = run_practice(kind, request, home)
    return result.version, result.digest, dict(result.metrics)


_OWN_PACKAGES = ("instrument_agent", "pipelines", "studio_operator")


def ama_message(exc: BaseException, directory: Path) -> str:
    """What the ama reads when a practice fails: the error's own sentence for the errors the
    practice raises on purpose (ValueError and the project's own errors: bad audio, a region
    beyond the performance's end, an unknown deu, failed evaluation gates...), naming an
    upload by its name, not its server path; a plain sentence for anything else (a bug; the
    runner's log has the traceback)."""
    if isinstance(exc, (ValueError, FileNotFoundError)) or type(exc).__module__.split(".")[0] in _OWN_PACKAGES:
        return str(exc).replace(f"{directory / 'uploads'}/", "")[:2000]
    return "the studio could not run this practice because of an internal error; its log has the details"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    directory, home = Path(argv[0]), Path(argv[1])
    workspace = PracticeWorkspace
    workspace.update(directory, phase="RUNNING", host=socket.gethostname(), pid=os.getpid(), message="started")

    def stop(_signum, _frame):
        raise PracticeInterrupted()

    signal.signal(signal.SIGTERM, stop)
    last = [0.0]

    def progress(**fields):
        fields = {
            k: v for k, v in fields.items() if k in ("stage", "step", "total_steps", "loss", "message", "metrics")
        }
        now = time.monotonic()
        if now - last[0] >= 0.25 or "stage" in fields:
            last[0] = now
            workspace.update(directory, **fields)

    try:
        version, digest, metrics = execute(directory, home, progress)
    except PracticeInterrupted:
        workspace.update(directory, phase="PENDING", message="interrupted; queued to resume", pid=0)
        workspace.release(directory)
        return 143
    except BaseException as exc:  # noqa: BLE001 - every failure is reported in the status
        traceback.print_exc()
        workspace.update(directory, phase="FAILED", message=ama_message(exc, directory))
        return 1
    workspace.update(
        directory,
        phase="SUCCEEDED",
        version=version,
        digest=digest,
        metrics=metrics,
        message=f"published version {version}",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
