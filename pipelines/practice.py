"""The embedded imitation practice: every stage in order, in-process, resumable.

``run_imitation`` runs ingest → features → train → evaluate → push
(:mod:`pipelines.stages`) in a work directory keyed by the deu, the sha256 of
every input file, the learnerProfile and the parent version. Each finished
stage leaves ``<stage>.done.json`` there; training checkpoints as it goes. So
running the same command again after an interrupt (Ctrl-C, a crash, a
SIGTERM) skips the finished stages, reuses the cached features and continues
training from the newest checkpoint. A practice that fails never touches the
store: the new version appears only through the store's atomic commit in the
last stage.
"""

from __future__ import annotations

import hashlib
import shutil
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from instrument_agent.proto import personality_pb2

__all__ = ["practice_workdir", "run_imitation"]

_STAGES = ("ingest", "features", "train", "evaluate", "push")


def _digest_inputs(deu: str, audio_paths: Sequence[str | Path], profile, parent_version: int) -> str:
    from pipelines.data import file_sha256

    digest = hashlib.sha256(f"imitation\0{deu}\0{parent_version}\0".encode())
    for path in audio_paths:
        digest.update(file_sha256(path).encode())
    digest.update(profile.SerializeToString(deterministic=True))
    return digest.hexdigest()


def practice_workdir(home: Path, deu: str, key: str) -> Path:
    """``<home>/practice/<deu>/imitation-<key[:16]>``."""
    return Path(home) / "practice" / deu / f"imitation-{key[:16]}"


class _Reporter:
    """Stage messages to a rich console (``progress=True``), a callback, or nowhere."""

    def __init__(self, progress: bool | Callable[..., None]):
        self.callback = progress if callable(progress) else None
        self.console = None
        if progress is True:
            from rich.console import Console

            self.console = Console(stderr=True)

    def __call__(self, stage: str, message: str, **fields: Any) -> None:
        if self.callback is not None:
            self.callback(stage=stage, message=message, **fields)
        if self.console is not None:
            self.console.print(f"[bold cyan]{stage:>9}[/bold cyan] {message}")


def _stage(workdir: Path, name: str, resume: bool, run: Callable[[], Any], report: _Reporter, done_message: str) -> Any:
    from pipelines.stages._artifacts import read_json, write_json

    marker = workdir / f"{name}.done.json"
    if resume and marker.is_file():
        result = read_json(marker)["result"]
        report(name, f"{done_message} (done before, reused)")
        return result
    started = time.perf_counter()
    result = run()
    write_json(marker, {"result": result, "seconds": time.perf_counter() - started})
    report(name, done_message)
    return result


def run_imitation(
    deu: str,
    audio_paths: Sequence[str | Path],
    learner_profile: personality_pb2.LearnerProfile | dict | None = None,
    home: str | Path | None = None,
    resume: bool = True,
    progress: bool | Callable[..., None] = True,
    *,
    player_profile: personality_pb2.PlayerProfile | None = None,
    base_version: int | None = None,
    new: bool = False,
    work_dir: str | Path | None = None,
    practice_id: str = "",
    cache_dir: str | Path | None = None,
) -> personality_pb2.PersonalityManifest:
    """Practise ``deu`` by imitating ``audio_paths`` and publish a new version.

    Args:
        deu: the deu's name (a new deu, or the next version of an existing one).
        audio_paths: recordings of one monophonic instrument (any format, rate, channels).
        learner_profile: message or dict; unset fields take the defaults.
        home: Amadeus home (store, cache, work dirs); default ``$AMADEUS_HOME``.
        resume: reuse finished stages and checkpoints of an earlier run of the
            same practice; False starts the work directory afresh.
        progress: True for rich output, a callable(stage=, message=, step=,
            total_steps=, loss=, metrics=) for a host, False for silence.
        player_profile: the new version's playerProfile (default: the parent's).
        base_version: the version to continue from (default: the latest, if any).
        new: ignore earlier versions (no parent, no warm start).
        work_dir: use this work directory instead of the keyed one.
        practice_id: recorded in the manifest (default: the work key).
        cache_dir: feature cache (default ``<home>/cache/features``).

    Returns:
        The published version's manifest.

    Raises:
        pipelines.data.DataError subclasses (bad input audio, naming the file),
        EvaluationGateError (nothing pushed), KeyboardInterrupt (resumable).
    """
    from instrument_agent.home import amadeus_home
    from instrument_agent.personality import UnknownDeuError
    from instrument_agent.store import PersonalityStore, validate_deu_name
    from pipelines import stages
    from pipelines.stages._artifacts import learner_profile as resolve

    validate_deu_name(deu)
    home = Path(home) if home is not None else amadeus_home()
    profile = resolve(learner_profile)
    store = PersonalityStore(home)
    parent_version = 0
    if not new:
        try:
            parent_version = base_version or store.latest_version(deu)
        except UnknownDeuError:
            parent_version = 0
    paths = [str(p) for p in audio_paths]
    if not paths:
        raise ValueError("imitation needs at least one audio file")
    from pipelines.data import AudioReadError

    for path in paths:
        if not Path(path).is_file():
            raise AudioReadError(path, "no such audio file")
    key = _digest_inputs(deu, paths, profile, parent_version)
    workdir = Path(work_dir) if work_dir is not None else practice_workdir(home, deu, key)
    if not resume and workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    report = _Reporter(progress)
    started_file = workdir / "started"
    if not started_file.exists():
        started_file.write_text(datetime.now(timezone.utc).isoformat().replace("+00:00", "Z"))
    started = started_file.read_text().strip()
    cache_dir = Path(cache_dir) if cache_dir is not None else home / "cache" / "features"

    def feature_progress(done: int, total: int, name: str) -> None:
        report("features", f"f0 and loudness of {name} ({done}/{total})")

    ingest_dir = _stage(workdir, "ingest", resume, lambda: stages.ingest(paths, profile, workdir), report, f"{len(paths)} recording(s) prepared")
    features_dir = _stage(
        workdir, "features", resume, lambda: stages.features(ingest_dir, profile, workdir, cache_dir, feature_progress), report,
        "features and examples ready",
    )
    parent_export = None
    if parent_version:
        parent_export = str(store.get(deu, parent_version).path)

    def train() -> str:
        show = progress is True
        return stages.train(features_dir, profile, workdir, parent_export_dir=parent_export, progress=show)

    export_dir = _stage(workdir, "train", resume, train, report, f"trained {profile.steps} steps and exported")
    metrics_path = _stage(
        workdir, "evaluate", resume, lambda: stages.evaluate(export_dir, features_dir, profile, workdir), report,
        "held-out loss of the personality and the baselines",
    )
    pushed = _stage(
        workdir,
        "push",
        resume,
        lambda: stages.push(
            deu, export_dir, features_dir, metrics_path, profile, ingest_dir=ingest_dir, player_profile=player_profile,
            parent_version=parent_version, practice_id=practice_id or key[:16], started=started,
            params={"work_dir": str(workdir), "audio_files": str(len(paths))}, home=home,
        ),
        report,
        "published",
    )
    manifest = store.get(deu, pushed["version"]).manifest
    report("push", f"{deu} v{manifest.version} ({pushed['digest'][:12]})", metrics=dict(manifest.metrics))
    return manifest
