"""The embedded practice runner: one practice, in its own process.

Run as ``python -m studio_operator.server.backends.embedded.runner <practice dir> <tenant home>``
(the studio's scheduler does this). It marks the practice RUNNING, runs it,
and writes progress and the outcome to ``status.json``. A new personality
version becomes visible only through the store's atomic commit, so a failed or
interrupted practice never leaves a partial version. SIGTERM (a studio shutting
down) puts the practice back in the queue: the next runner resumes from the
checkpoints in ``work/``.

What runs:

* imitation → ``pipelines.practice.run_imitation``
* tuning with only a playerProfile change → a new version at once
  (:meth:`PersonalityStore.derive`, no training)
* tuning with a learnerProfile change → ``pipelines.tuning.run_tuning``
* feedback → ``pipelines.feedback.run_feedback``
"""

from __future__ import annotations

import inspect
import os
import signal
import socket
import sys
import time
import traceback
from pathlib import Path

from instrument_agent.proto import personality_pb2, studio_pb2
from studio_operator.server.backends.embedded.practices import PracticeWorkspace

__all__ = ["PracticeInterrupted", "execute", "main", "merge_overrides"]

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


def _call(module_name: str, function: str, **kwargs):
    """Call a pipelines entry point with the keyword arguments it accepts."""
    import importlib

    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise RuntimeError(f"{module_name} is not installed in this studio; cannot run this practice ({exc})") from None
    fn = getattr(module, function)
    params = inspect.signature(fn).parameters
    if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
        kwargs = {k: v for k, v in kwargs.items() if k in params}
    return fn(**kwargs)


def execute(directory: Path, home: Path, progress=None) -> tuple[int, str, dict]:
    """Run the practice in ``directory`` against the store at ``home``.

    Returns ``(version, digest, metrics)`` of the new personality.
    """
    from instrument_agent.personality.store import PersonalityStore
    from instrument_agent.profiles import resolve_learner_profile, resolve_player_profile

    header = studio_pb2.PracticeHeader()
    header.ParseFromString((directory / "request.pb").read_bytes())
    store = PersonalityStore(home)
    uploads = {d.name: directory / "uploads" / d.name for d in header.uploads}
    audio = [str(p) for p in uploads.values() if p.name != header.performance] + [
        uri.removeprefix("file://") for uri in header.audio_uris
    ]
    work = directory / "work"
    work.mkdir(exist_ok=True)
    practice_id = directory.name
    base_version = header.base_version or None
    common = dict(
        deu=header.deu, home=home, work_dir=work, practice_id=practice_id, progress=progress, base_version=base_version
    )

    if header.type == Kind.IMITATION:
        learner = merge_overrides(_base_learner(store, header.deu, base_version), header.learner_profile)
        manifest = _call("pipelines.practice", "run_imitation", audio_paths=audio, learner_profile=learner, **common)
    elif header.type == Kind.TUNING and not header.learner_profile.ListFields():
        base = store.get(header.deu, base_version)
        player = resolve_player_profile(
            merge_overrides(resolve_player_profile(base.manifest.player_profile), header.player_profile)
        )
        record = personality_pb2.PracticeRecord(kind=Kind.TUNING, practice_id=practice_id, runner="embedded")
        record.started.GetCurrentTime()
        record.finished.GetCurrentTime()
        if progress:
            progress(stage="push", message="playerProfile tuning: no training needed")
        manifest = store.derive(base, player_profile=player, practice=record).manifest
    elif header.type == Kind.TUNING:
        base = store.get(header.deu, base_version)
        learner = resolve_learner_profile(merge_overrides(base.manifest.learner_profile, header.learner_profile))
        player = merge_overrides(base.manifest.player_profile, header.player_profile)
        manifest = _call("pipelines.tuning", "run_tuning", learner_profile=learner, player_profile=player, **common)
    elif header.type == Kind.FEEDBACK:
        performance = str(uploads[header.performance]) if header.performance in uploads else header.performance
        regions = [(r.start_s, r.end_s, studio_pb2.FeedbackRegion.Label.Name(r.label).lower()) for r in header.regions]
        manifest = _call(
            "pipelines.feedback", "run_feedback", performance=performance, regions=regions, audio_paths=audio, **common
        )
    else:
        raise ValueError(f"practice type {header.type} is not imitation, tuning or feedback")
    version = manifest.version
    info = store.info(header.deu, version)
    return version, info.digest, dict(manifest.metrics)


def _base_learner(store, deu: str, base_version):
    from instrument_agent.personality import UnknownDeuError
    from instrument_agent.profiles import default_learner_profile

    try:
        return store.get(deu, base_version, verify=False).manifest.learner_profile
    except UnknownDeuError:
        return default_learner_profile()


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
        message = f"{type(exc).__name__}: {exc}".replace(
            f"{directory / 'uploads'}/", ""
        )  # name the upload, not the server path
        workspace.update(directory, phase="FAILED", message=message[:2000])
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
