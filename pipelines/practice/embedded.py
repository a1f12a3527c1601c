"""The embedded runner: a practice's graph walked in-process, resumable.

The steps, their order and their wiring come from :mod:`pipelines.stages.graph`,
the same graphs the KFP pipelines are built from (:mod:`pipelines.kfp_pipelines`).
:func:`execute_graph` walks a graph and calls, for each step, the method of
the same name on an in-process binding (:class:`~.bindings.InProcessSteps`), which
calls the stage function (:mod:`pipelines.stages`) in the practice's work
directory. Running in-process instead of through ``kfp.local`` avoids a
subprocess and a TensorFlow start per step (about 2.5x faster on a tiny
practice; docs/practice.md) and keeps checkpoints between runs.

Each finished step leaves ``<step>.done.json`` in the work directory (its outputs
and where its inputs came from); training checkpoints as it goes. So running the
same practice again after an interrupt (Ctrl-C, a crash, a SIGTERM) skips the
finished steps, reuses the cached features and continues training from the newest
checkpoint. A practice that fails publishes nothing: the new version appears only
through the store's atomic commit (and the registry's publish) in the last step.
"""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from instrument_agent import interrupts
from pipelines.stages.graph import Branch, Const, GraphError, Param, PipelineGraph

from .bindings import InProcessSteps, Reporter
from .publisher import Session
from .request import Progress

__all__ = ["execute_graph", "practice_workdir", "run_graph_in_process"]

_PUBLISHING_STEPS = ("push", "derive", "feedback")


def practice_workdir(home: Path, deu: str, key: str, kind: str = "imitation") -> Path:
    """``<home>/practice/<deu>/<kind>-<key[:16]>``."""
    return Path(home) / "practice" / deu / f"{kind}-{key[:16]}"


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


def _interruptible(binding: Callable[..., dict], inputs: dict[str, Any]) -> dict:
    """``binding(**inputs)``, with every form of a Ctrl-C raised as the KeyboardInterrupt
    :func:`~.run.run_practice` documents (the CLI then says "run the same command again").

    Found by killing practices with SIGINT (tests/pipelines/practice/test_faults.py): the trainer
    turns an interrupt into :class:`~pipelines.training.TrainingInterrupted` (a RuntimeError, after
    saving a checkpoint), and TensorFlow's pybind layer re-raises one that lands inside its C++
    code (the TFLite export) as a RuntimeError "... REPLACED BY KeyboardInterrupt". Both escaped
    the CLI as a traceback.
    """
    interrupts.check()  # a Ctrl-C that something swallowed (a finaliser, a bare except) stops here
    try:
        return binding(**inputs)
    except RuntimeError as exc:
        trainer = sys.modules.get("pipelines.training.trainer")  # loaded (with TensorFlow) when a step trained
        if trainer is not None and isinstance(exc, trainer.TrainingInterrupted):
            raise KeyboardInterrupt(str(exc)) from None
        if "KeyboardInterrupt" in str(exc):
            raise KeyboardInterrupt(str(exc).splitlines()[0]) from None
        raise


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
            declared = (*node.outputs, *filter(None, [node.returns]))
            done = marker.read() if resume else None
            if done is not None and any(name not in done for name in declared):
                done = None  # a marker from before the step had this output (e.g. evaluate's preview): run it again
            reused = done is not None
            if done is None:
                started = time.perf_counter()
                done = _interruptible(binding, {name: value(source) for name, source in node.inputs.items()})
                missing = [n for n in declared if n not in done]
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


def _started(workdir: Path) -> str:
    started_file = workdir / "started"
    if not started_file.exists():
        started_file.write_text(datetime.now(UTC).isoformat().replace("+00:00", "Z"))
    return started_file.read_text().strip()


def run_graph_in_process(
    graph: PipelineGraph,
    params: Mapping[str, Any],
    *,
    session: Session,
    workdir: Path,
    resume: bool = True,
    progress: Progress = False,
    cache_dir: Path | None = None,
    record_params: Mapping[str, str] | None = None,
    runner: str = "embedded",
    feedback_steps: int = 60,
    finetune_steps: int | None = None,
) -> tuple[int, dict[str, dict]]:
    """Walk ``graph`` with :class:`~.bindings.InProcessSteps` in ``workdir``, publishing through ``session``.

    Args:
        graph, params: as for :func:`execute_graph` (``params["deu"]`` names the deu).
        session: the practice's working store and publisher (:meth:`.Publisher.session`).
        workdir: the work directory (markers, checkpoints); ``resume=False`` starts it afresh.
        progress: see :data:`.request.Progress`.
        cache_dir: the feature cache (default: the session's).
        record_params: more practice record parameters (e.g. ``work_dir``).
        runner: recorded in the practice record (``embedded``, or ``job`` in a Kubernetes Job).
        feedback_steps: the feedback step's knob-optimiser steps; finetune_steps: its fine-tune's
            training steps (None: :class:`pipelines.feedback.FineTuneSettings`' default).

    Returns:
        (the published version's number in the registry, ``{step: outputs}`` in the order the steps ran).
    """
    workdir = Path(workdir)
    if not resume and workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    report = Reporter(progress)
    steps = InProcessSteps(
        session,
        workdir,
        report=report,
        cache_dir=Path(cache_dir) if cache_dir is not None else session.cache_dir,
        started=_started(workdir),
        record_params=record_params,
        show_training=progress is True,
        runner=runner,
        feedback_steps=feedback_steps,
        finetune_steps=finetune_steps,
    )

    def step_done(step: str, outputs: dict, reused: bool) -> None:
        if step not in _PUBLISHING_STEPS:
            report(step, steps.describe(step, outputs) + (" (done before, reused)" if reused else ""))

    version, outputs = execute_graph(graph, params, steps, workdir, resume=resume, report=step_done)
    final = next(step for step in reversed(outputs) if step in _PUBLISHING_STEPS)
    done = outputs[final]
    report(
        final,
        f"published {params['deu']} v{version} ({done.get('digest', '')[:12]})",
        metrics=dict(done.get("metrics", {})),
    )
    return int(version), outputs
