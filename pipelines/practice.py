"""The embedded practice runner: a practice's graph walked in-process, resumable.

The steps, their order and their wiring come from :mod:`pipelines.stages.graph`,
the same graphs the KFP pipelines are built from (:mod:`pipelines.kfp_pipelines`).
:func:`execute_graph` walks a graph and calls, for each step, the method of
the same name on an in-process binding (:class:`InProcessSteps`), which calls
the shared stage function (:mod:`pipelines.stages`) in the practice's work
directory. Running in-process instead of through ``kfp.local`` avoids a
subprocess and a TensorFlow start per step (about 2.5x faster on a tiny
practice; docs/practice.md) and keeps checkpoints between runs.

``run_imitation`` runs the ``imitation`` graph (ingest → features → train →
evaluate → push) in a work directory keyed by the deu, the sha256 of every
input file, the learnerProfile and the parent version. Each finished step
leaves ``<step>.done.json`` there (its outputs and where its inputs came
from); training checkpoints as it goes. So running the same command again
after an interrupt (Ctrl-C, a crash, a SIGTERM) skips the finished steps,
reuses the cached features and continues training from the newest
checkpoint. A practice that fails never touches the store: the new version
appears only through the store's atomic commit in the last step.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from instrument_agent.proto import personality_pb2
from pipelines.stages.graph import IMITATION, Branch, Const, GraphError, Param, PipelineGraph

__all__ = ["InProcessSteps", "execute_graph", "practice_workdir", "run_graph_in_process", "run_imitation"]


def _digest_inputs(deu: str, audio_paths: Sequence[str | Path], profile, parent_version: int) -> str:
    from pipelines.data import file_sha256

    digest = hashlib.sha256(f"imitation\0{deu}\0{parent_version}\0".encode())
    for path in audio_paths:
        digest.update(file_sha256(path).encode())
    digest.update(profile.SerializeToString(deterministic=True))
    return digest.hexdigest()


def practice_workdir(home: Path, deu: str, key: str, kind: str = "imitation") -> Path:
    """``<home>/practice/<deu>/<kind>-<key[:16]>``."""
    return Path(home) / "practice" / deu / f"{kind}-{key[:16]}"


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


class _Marker:
    """``<workdir>/<step>.done.json``: a finished step's outputs and the wiring its inputs came from."""

    def __init__(self, workdir: Path, step: str):
        self.path = Path(workdir) / f"{step}.done.json"

    def read(self) -> dict | None:
        from pipelines.stages._artifacts import read_json

        if not self.path.is_file():
            return None
        return read_json(self.path).get("outputs")  # None for an older marker layout: the step runs again

    def write(self, outputs: dict, wiring: dict, seconds: float) -> None:
        from pipelines.stages._artifacts import write_json

        write_json(self.path, {"outputs": outputs, "inputs": wiring, "seconds": seconds})


def execute_graph(
    graph: PipelineGraph,
    params: Mapping[str, Any],
    bindings: Any,
    workdir: str | Path,
    *,
    resume: bool = True,
    report: Callable[[str, dict, bool], None] | None = None,
) -> tuple[Any, dict[str, dict]]:
    """Walk ``graph`` in-process, each step's inputs resolved from ``params`` and earlier outputs.

    Args:
        graph: the practice's graph (:mod:`pipelines.stages.graph`).
        params: pipeline parameter values (in-process they may be Python objects, e.g. a
            LearnerProfile for ``learner_profile_json``).
        bindings: an object with one method per step name, taking the step's inputs as
            keyword arguments and returning ``{output: value}`` (JSON-able) with the step's
            declared outputs and return value.
        workdir: where the ``<step>.done.json`` markers go.
        resume: reuse the outputs of steps whose marker says they are done.
        report: callable(step, outputs, reused) after each step.

    Returns:
        (the graph's result value, ``{step: outputs}`` in the order the steps ran).

    Raises:
        GraphError when a step has no binding or its binding returned without a declared output;
        whatever a binding raises (the step's marker is not written).
    """
    outputs: dict[str, dict] = {}

    def value(source):
        if isinstance(source, Param):
            return params[source.name]
        if isinstance(source, Const):
            return source.value
        return outputs[source.step][source.name]

    def walk(nodes) -> None:
        for node in nodes:
            if isinstance(node, Branch):
                walk(node.then if value(node.test) == node.equals else node.otherwise)
                continue
            binding = getattr(bindings, node.name, None)
            if binding is None:
                raise GraphError(f"pipeline {graph.practice_type}: step {node.name!r} has no in-process binding")
            marker = _Marker(Path(workdir), node.name)
            done = marker.read() if resume else None
            reused = done is not None
            if done is None:
                started = time.perf_counter()
                done = binding(**{name: value(source) for name, source in node.inputs.items()})
                missing = [n for n in (*node.outputs, *filter(None, [node.returns])) if n not in done]
                if missing:
                    raise GraphError(f"step {node.name!r}: its in-process binding returned no {', '.join(missing)}")
                marker.write(
                    done, {name: str(source) for name, source in node.inputs.items()}, time.perf_counter() - started
                )
            outputs[node.name] = done
            if report is not None:
                report(node.name, done, reused)

    walk(graph.nodes)
    for out in graph.result:
        if out.step in outputs:
            return outputs[out.step][out.name], outputs
    raise GraphError(f"pipeline {graph.practice_type}: none of its result steps ran")


def _profile_value(value):
    """A learnerProfile input in-process: a message, a dict, or (from ``recall``) a JSON object string."""
    return json.loads(value) if isinstance(value, str) else value


class InProcessSteps:
    """The in-process binding of each graph step: the shared stage functions in ``workdir``,
    publishing to the local store at ``home``.

    ``registry_uri`` and ``mlflow_tracking_uri`` inputs are accepted and ignored: the embedded
    runner publishes to the local store (the registry's embedded default).
    """

    def __init__(
        self,
        workdir: Path,
        home: Path,
        *,
        report: _Reporter,
        cache_dir: Path,
        started: str,
        record_params: Mapping[str, str] | None = None,
        show_training: bool = False,
        runner: str = "embedded",
    ):
        from instrument_agent.personality.store import PersonalityStore

        self.workdir, self.home, self.report, self.cache_dir = Path(workdir), Path(home), report, Path(cache_dir)
        self.store = PersonalityStore(home)
        self.started = started
        self.record_params = dict(record_params or {})
        self.show_training = show_training
        self.runner = runner

    def ingest(self, audio_uris, learner_profile_json) -> dict:
        from pipelines import stages
        from pipelines.inputs import fetch_inputs, is_remote

        uris = [str(u) for u in (json.loads(audio_uris) if isinstance(audio_uris, str) else audio_uris)]
        paths = fetch_inputs(uris, self.workdir / "audio") if any(map(is_remote, uris)) else uris
        out = stages.ingest(paths, _profile_value(learner_profile_json), self.workdir)
        if paths != uris:  # a later practice reads the s3:// URIs again, not this run's copies
            table_path = Path(out) / "recordings.json"
            table = json.loads(table_path.read_text())
            for row, uri in zip(table["recordings"], uris):
                if is_remote(uri):
                    row["uri"] = uri
            table_path.write_text(json.dumps(table, indent=2, sort_keys=True))
        return {"recordings": out, "count": len(paths)}

    def features(self, recordings, learner_profile_json, feature_cache_dir) -> dict:
        from pipelines import stages

        def progress(done: int, total: int, name: str) -> None:
            self.report("features", f"f0 and loudness of {name} ({done}/{total})")

        cache_dir = feature_cache_dir or self.cache_dir
        out = stages.features(recordings, _profile_value(learner_profile_json), self.workdir, cache_dir, progress)
        return {"examples": out, "cache": json.loads((Path(out) / "stats.json").read_text())["cache"]}

    def train(
        self, examples, learner_profile_json, deu, base_version, new, registry_uri="", mlflow_tracking_uri=""
    ) -> dict:
        from instrument_agent.personality import UnknownDeuError
        from pipelines import stages

        parent = 0
        if not new:
            try:
                parent = int(base_version) or self.store.latest_version(deu)
            except UnknownDeuError:
                parent = 0
        parent_export = str(self.store.get(deu, parent).path) if parent else None
        profile = _profile_value(learner_profile_json)
        export_dir = stages.train(
            examples,
            profile,
            self.workdir,
            parent_export_dir=parent_export,
            progress=self.show_training,
            on_step=self._training_reporter(profile) if self.report.callback is not None else None,
        )
        return {"model": export_dir, "parent_version": parent}

    def _training_reporter(self, profile) -> Callable[[int, float], None]:
        """``on_step`` for the trainer: step and loss to the progress callback, at most twice a second."""
        from pipelines.stages._artifacts import learner_profile

        total = learner_profile(profile).steps
        last = [0.0]

        def on_step(step: int, loss: float) -> None:
            now = time.monotonic()
            if now - last[0] >= 0.5 or step >= total:
                last[0] = now
                self.report(
                    "train", f"step {step}/{total}, loss {loss:.3f}", step=step, total_steps=total, loss=float(loss)
                )

        return on_step

    def evaluate(self, model, examples, learner_profile_json) -> dict:
        from pipelines import stages

        path = stages.evaluate(model, examples, _profile_value(learner_profile_json), self.workdir)
        return {"evaluation": path, "blessed": bool(json.loads(Path(path).read_text())["blessed"])}

    def push(
        self,
        deu,
        practice_id,
        practice_kind,
        model,
        examples,
        recordings,
        evaluation,
        learner_profile_json,
        player_profile_json,
        parent_version,
        registry_uri="",
        mlflow_tracking_uri="",
    ) -> dict:
        from pipelines import stages

        player = player_profile_json
        if isinstance(player, (str, dict)):  # changes over the parent's playerProfile
            player = self._player_changes(deu, int(parent_version), player)
        pushed = stages.push(
            deu,
            model,
            examples,
            evaluation,
            _profile_value(learner_profile_json),
            ingest_dir=recordings,
            player_profile=player,
            parent_version=int(parent_version),
            practice_id=practice_id,
            started=self.started,
            params=self.record_params,
            runner=self.runner,
            kind=practice_kind,
            home=self.home,
        )
        return {"version": pushed["version"], "digest": pushed["digest"]}

    def _player_changes(self, deu: str, parent_version: int, changes):
        from instrument_agent.profiles import merge_profile, resolve_player_profile

        changes = json.loads(changes) if isinstance(changes, str) else changes
        if not changes:
            return None
        base = self.store.get(deu, parent_version).manifest.player_profile if parent_version else None
        return merge_profile(resolve_player_profile(base), dict(changes, configured=True), source="player_profile_json")

    def recall(
        self, deu, base_version, learner_profile_json, player_profile_json, registry_uri="", mlflow_tracking_uri=""
    ) -> dict:
        from instrument_agent.personality import UnknownDeuError
        from instrument_agent.profiles import profile_to_dict
        from pipelines.kfp_pipelines._steps import _recall

        try:
            parent = int(base_version) or self.store.latest_version(deu)
        except UnknownDeuError:
            raise UnknownDeuError(f"tuning deu {deu!r}: it has no version in {self.home} to tune") from None
        change = learner_profile_json
        if isinstance(change, personality_pb2.LearnerProfile):
            change = profile_to_dict(change)
        return _recall(
            self.store.get(deu, parent), parent, change if isinstance(change, str) else json.dumps(change or {})
        )

    def derive(
        self, deu, parent_version, player_profile_json, practice_id, registry_uri="", mlflow_tracking_uri=""
    ) -> dict:
        parent = self.store.get(deu, int(parent_version))
        player = player_profile_json
        if isinstance(player, (str, dict)):
            player = self._player_changes(deu, parent.version, player)
        record = personality_pb2.PracticeRecord(
            kind=personality_pb2.PracticeRecord.TUNING, practice_id=practice_id, runner=self.runner
        )
        record.started.FromJsonString(self.started)
        record.finished.GetCurrentTime()
        record.data_digests.extend(parent.manifest.practice.data_digests)
        record.params.update(dict(parent.manifest.practice.params))
        record.params.update(self.record_params)
        bundle = self.store.derive(parent, player_profile=player, practice=record)
        return {"version": bundle.version, "digest": bundle.digest}

    def feedback(
        self,
        deu,
        base_version,
        performance_uri,
        feedback_regions_json,
        practice_id,
        registry_uri="",
        mlflow_tracking_uri="",
    ) -> dict:
        from pipelines.feedback import regions_from_json, run_feedback
        from pipelines.registry import LocalRegistry, Registry

        regions = feedback_regions_json
        if isinstance(regions, str):
            regions = regions_from_json(json.loads(regions or "[]"))
        result = run_feedback(
            deu,
            performance_uri,
            regions,
            base_version=int(base_version or 0) or None,
            registry=Registry(LocalRegistry(self.home)),
            practice_id=practice_id,
            runner=self.runner,
        )
        return {"version": result.version, "parent_version": result.parent_version}

    def describe(self, step: str, outputs: dict) -> str:
        """The progress line after ``step``."""
        return {
            "ingest": f"{outputs.get('count', '?')} recording(s) prepared",
            "features": f"features and examples ready (cache: {outputs.get('cache', {}).get('hits', 0)} hit(s))",
            "train": "trained and exported"
            + (f", continuing v{outputs['parent_version']}" if outputs.get("parent_version") else ""),
            "evaluate": "held-out loss of the personality and the baselines"
            + ("" if outputs.get("blessed", True) else " (gates failed)"),
            "recall": f"v{outputs.get('parent_version')}: {outputs.get('mode')}Profile changed",
            "derive": "new playerProfile, the parent's model (no training)",
            "feedback": f"playerProfile knobs tuned from v{outputs.get('parent_version')}",
        }.get(step, "done")


def _started(workdir: Path) -> str:
    started_file = workdir / "started"
    if not started_file.exists():
        started_file.write_text(datetime.now(UTC).isoformat().replace("+00:00", "Z"))
    return started_file.read_text().strip()


def run_graph_in_process(
    graph: PipelineGraph,
    params: Mapping[str, Any],
    *,
    deu: str,
    home: Path,
    workdir: Path,
    resume: bool,
    progress: bool | Callable[..., None],
    cache_dir: Path,
    record_params: Mapping[str, str],
    runner: str = "embedded",
) -> personality_pb2.PersonalityManifest:
    """Walk ``graph`` with :class:`InProcessSteps` in ``workdir``; returns the published manifest.
    ``runner`` is recorded in its practice record (``embedded``, or ``job`` in a Kubernetes Job)."""
    if not resume and workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    report = _Reporter(progress)
    steps = InProcessSteps(
        workdir,
        home,
        report=report,
        cache_dir=cache_dir,
        started=_started(workdir),
        record_params=record_params,
        show_training=progress is True,
        runner=runner,
    )

    def step_done(step: str, outputs: dict, reused: bool) -> None:
        if step not in ("push", "derive", "feedback"):
            report(step, steps.describe(step, outputs) + (" (done before, reused)" if reused else ""))

    version, _ = execute_graph(graph, params, steps, workdir, resume=resume, report=step_done)
    manifest = steps.store.get(deu, version).manifest
    final = next(out.step for out in graph.result if (workdir / f"{out.step}.done.json").is_file())
    info = steps.store.info(deu, version)
    report(final, f"published {deu} v{manifest.version} ({info.digest[:12]})", metrics=dict(manifest.metrics))
    return manifest


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
    runner: str = "embedded",
    audio_uris: Sequence[str] | None = None,
) -> personality_pb2.PersonalityManifest:
    """Practise ``deu`` by imitating ``audio_paths`` and publish a new version.

    Runs the ``imitation`` graph (:data:`pipelines.stages.graph.IMITATION`) in-process.

    Args:
        deu: the deu's name (a new deu, or the next version of an existing one).
        audio_paths: recordings of one monophonic instrument (any format, rate, channels).
            Their absolute paths are recorded as ``practice.params["audio_uris"]`` (JSON list)
            so a later tuning practice can read them again.
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
        runner: recorded in the practice record (``embedded``; ``job`` in a Kubernetes Job).
        audio_uris: where ``audio_paths`` came from (e.g. ``s3://`` URIs they were fetched
            from), one per path, recorded as ``audio_uris`` instead of the local paths.

    Returns:
        The published version's manifest.

    Raises:
        pipelines.data.DataError subclasses (bad input audio, naming the file),
        EvaluationGateError (nothing pushed), KeyboardInterrupt (resumable).
    """
    from instrument_agent.personality import UnknownDeuError
    from instrument_agent.personality.home import amadeus_home
    from instrument_agent.personality.store import PersonalityStore, validate_deu_name
    from pipelines.data import AudioReadError
    from pipelines.stages._artifacts import learner_profile as resolve

    validate_deu_name(deu)
    home = Path(home) if home is not None else amadeus_home()
    profile = resolve(learner_profile)
    parent_version = 0
    if not new:
        try:
            parent_version = base_version or PersonalityStore(home).latest_version(deu)
        except UnknownDeuError:
            parent_version = 0
    paths = [str(p) for p in audio_paths]
    if not paths:
        raise ValueError("imitation needs at least one audio file")
    for path in paths:
        if not Path(path).is_file():
            raise AudioReadError(path, "no such audio file")
    if audio_uris is not None and len(audio_uris) != len(paths):
        raise ValueError(f"audio_uris: {len(audio_uris)} URI(s) for {len(paths)} audio file(s)")
    key = _digest_inputs(deu, paths, profile, parent_version)
    workdir = Path(work_dir) if work_dir is not None else practice_workdir(home, deu, key)
    cache_dir = Path(cache_dir) if cache_dir is not None else home / "cache" / "features"
    params = {
        "deu": deu,
        "practice_id": practice_id or key[:16],
        "audio_uris": [str(Path(p).resolve()) for p in paths],
        "base_version": parent_version,
        "new": parent_version == 0,
        "learner_profile_json": profile,
        "player_profile_json": player_profile,
        "feature_cache_dir": str(cache_dir),
        "registry_uri": "",
        "mlflow_tracking_uri": "",
    }
    record_params = {"work_dir": str(workdir), "audio_files": str(len(paths))}
    if audio_uris is not None:
        record_params["audio_uris"] = json.dumps(
            [u if "://" in str(u) else str(Path(u).resolve()) for u in map(str, audio_uris)]
        )
    return run_graph_in_process(
        IMITATION,
        params,
        deu=deu,
        home=home,
        workdir=workdir,
        resume=resume,
        progress=progress,
        cache_dir=cache_dir,
        record_params=record_params,
        runner=runner,
    )
