"""The in-process binding of each graph step: a thin call of the stage function it names.

:class:`InProcessSteps` has one method per step of :mod:`pipelines.stages.graph` (the KFP
binding, :mod:`pipelines.kfp_pipelines._steps`, has one function per step calling the same
stage functions). In-process, a parameter may be a Python value (a LearnerProfile, a dict
of playerProfile changes, :class:`pipelines.feedback.Region` objects) or the JSON text KFP
passes. The publishing steps (push, derive, feedback) publish through the practice's
:class:`~.publisher.Session` and return the registry's number and digest.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .publisher import Session
from .request import Progress

__all__ = ["InProcessSteps", "Reporter"]


class Reporter:
    """Stage messages to a rich console (``progress=True``), a callback, or nowhere."""

    def __init__(self, progress: Progress):
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

    def steps(self, stage: str, total: int, what: str) -> Callable[[int, float], None] | None:
        """``on_step(step, loss)`` for a loop of ``total`` steps: to the callback, at most twice a second."""
        if self.callback is None:
            return None
        last = [0.0]

        def on_step(step: int, loss: float) -> None:
            now = time.monotonic()
            if now - last[0] >= 0.5 or step >= total:
                last[0] = now
                self.callback(
                    stage=stage,
                    message=f"step {step}/{total}, {what} {loss:.3f}",
                    step=step,
                    total_steps=total,
                    loss=float(loss),
                )

        return on_step

    def preview(self, info) -> None:
        """A preview was written (a :class:`~instrument_agent.personality.PreviewInfo`): say so."""
        fields = {"preview_generation": info.generation, "preview_step": info.step}
        if self.callback is not None:
            self.callback(stage="train", message=f"preview {info.generation}: step {info.step}", **fields)
        if self.console is not None and info.generation == 1:  # once: how to hear it learn
            self.console.print(
                f"[bold cyan]{'train':>9}[/bold cyan] previews of the personality-in-training in "
                f"{info.path.parent}: hear them with amadeus agent --follow-practice {info.path.parent.parent}"
            )


def _json(value: Any, empty: Any) -> Any:
    """A parameter as a Python value: JSON text parsed (empty text: ``empty``), anything else as it is."""
    if isinstance(value, str):
        return json.loads(value) if value.strip() else empty
    return empty if value is None else value


def _adopted(session: Session, deu: str, practice_id: str, workdir: Path) -> dict | None:
    """The registry's latest version when this very practice (its id and work directory)
    published it before being stopped short of marking its step done; else None."""
    from instrument_agent.personality import UnknownDeuError

    try:
        latest = session.registry.latest_version(deu)
    except UnknownDeuError:
        return None
    bundle = session.fetch(deu, latest)
    record = bundle.manifest.practice
    if record.practice_id != practice_id or record.params.get("work_dir") != str(workdir):
        return None
    return {"version": latest, "digest": bundle.digest, "metrics": dict(bundle.manifest.metrics)}


def _published(session: Session, deu: str, local_version: int) -> dict:
    """Publish ``deu`` v``local_version`` of the session's store: the publishing steps' outputs."""
    bundle = session.store.get(deu, local_version)
    info = session.publish(bundle)
    return {"version": info.version, "digest": info.digest, "metrics": dict(bundle.manifest.metrics)}


class InProcessSteps:
    """One method per graph step, in ``workdir``, publishing through ``session``.

    ``registry_uri`` and ``mlflow_tracking_uri`` inputs are accepted and ignored: the session
    decided where the practice publishes (:class:`~.publisher.Publisher`).
    """

    def __init__(
        self,
        session: Session,
        workdir: Path,
        *,
        report: Reporter,
        cache_dir: Path,
        started: str,
        record_params: Mapping[str, str] | None = None,
        show_training: bool = False,
        runner: str = "embedded",
        feedback_steps: int = 60,
        finetune_steps: int | None = None,
    ):
        self.session, self.workdir, self.report, self.cache_dir = session, Path(workdir), report, Path(cache_dir)
        self.started = started
        self.record_params = dict(record_params or {})
        self.show_training = show_training
        self.runner = runner
        self.feedback_steps = feedback_steps
        self.finetune_steps = finetune_steps

    def ingest(self, audio_uris, learner_profile_json) -> dict:
        from pipelines import stages

        uris = [str(u) for u in _json(audio_uris, [])]
        out = stages.ingest(uris, _json(learner_profile_json, {}), self.workdir)
        return {"recordings": out, "count": len(uris)}

    def features(self, recordings, learner_profile_json, feature_cache_dir) -> dict:
        from pipelines import stages

        def progress(done: int, total: int, name: str) -> None:
            self.report("features", f"f0 and loudness of {name} ({done}/{total})")

        cache_dir = feature_cache_dir or self.cache_dir
        out = stages.features(recordings, _json(learner_profile_json, {}), self.workdir, cache_dir, progress)
        return {"examples": out, "cache": json.loads((Path(out) / "stats.json").read_text())["cache"]}

    def train(
        self, examples, learner_profile_json, deu, base_version, new, registry_uri="", mlflow_tracking_uri=""
    ) -> dict:
        from pipelines import stages
        from pipelines.stages._artifacts import learner_profile

        parent = 0 if new else self.session.parent(deu, int(base_version or 0))
        profile = learner_profile(_json(learner_profile_json, {}))
        parent_bundle = self.session.store.get(deu, parent) if parent else None
        export_dir = stages.train(
            examples,
            profile,
            self.workdir,
            parent_export_dir=str(parent_bundle.path) if parent_bundle else None,
            progress=self.show_training,
            on_step=self.report.steps("train", profile.steps, "loss"),
            deu=deu,
            player_profile=parent_bundle.manifest.player_profile if parent_bundle else None,
            on_preview=self.report.preview,
        )
        return {"model": export_dir, "parent_version": parent}

    def evaluate(self, model, examples, learner_profile_json) -> dict:
        from pipelines import stages
        from pipelines.stages.evaluate import BUNDLE_PREVIEW

        preview = self.workdir / "evaluate" / BUNDLE_PREVIEW
        path = stages.evaluate(model, examples, _json(learner_profile_json, {}), self.workdir, preview_dir=preview)
        return {
            "evaluation": path,
            "bundle_preview": str(preview),
            "blessed": bool(json.loads(Path(path).read_text())["blessed"]),
        }

    def push(
        self,
        deu,
        practice_id,
        practice_kind,
        model,
        examples,
        recordings,
        evaluation,
        bundle_preview,
        learner_profile_json,
        player_profile_json,
        parent_version,
        registry_uri="",
        mlflow_tracking_uri="",
    ) -> dict:
        from pipelines import stages

        adopted = _adopted(self.session, deu, practice_id, self.workdir)
        if adopted is not None:
            return adopted
        if int(parent_version):
            self.session.fetch(deu, int(parent_version))
        pushed = stages.push(
            deu,
            model,
            examples,
            evaluation,
            _json(learner_profile_json, {}),
            ingest_dir=recordings,
            preview_dir=bundle_preview,
            player_profile=_json(player_profile_json, None) or None,
            parent_version=int(parent_version),
            practice_id=practice_id,
            started=self.started,
            params=self.record_params,
            runner=self.runner,
            kind=practice_kind,
            home=self.session.home,
        )
        return _published(self.session, deu, pushed["version"])

    def recall(
        self, deu, base_version, learner_profile_json, player_profile_json, registry_uri="", mlflow_tracking_uri=""
    ) -> dict:
        from pipelines import stages

        parent = self.session.parent(deu, int(base_version or 0), required=True)
        return stages.recall(self.session.store.get(deu, parent), _json(learner_profile_json, {})).outputs()

    def derive(
        self, deu, parent_version, player_profile_json, practice_id, registry_uri="", mlflow_tracking_uri=""
    ) -> dict:
        from pipelines import stages

        adopted = _adopted(self.session, deu, practice_id, self.workdir)
        if adopted is not None:
            return adopted
        parent = self.session.fetch(deu, int(parent_version))
        bundle = stages.derive(
            self.session.store,
            parent,
            _json(player_profile_json, None),
            practice_id=practice_id,
            runner=self.runner,
            started=self.started,
            params=self.record_params,
        )
        return _published(self.session, deu, bundle.version)

    def feedback(
        self,
        deu,
        base_version,
        performance_uri,
        feedback_regions_json,
        feedback_method,
        practice_id,
        finetune_steps=0,
        registry_uri="",
        mlflow_tracking_uri="",
    ) -> dict:
        from pipelines import stages
        from pipelines.feedback import FineTuneSettings, Region, regions_from_json
        from pipelines.inputs import fetch_inputs

        if not performance_uri:
            raise ValueError("the feedback practice needs the judged performance")
        regions = _json(feedback_regions_json, [])
        if not all(isinstance(r, Region) for r in regions):
            regions = regions_from_json(regions)
        parent = self.session.fetch(deu, self.session.parent(deu, int(base_version or 0), required=True))
        (performance,) = fetch_inputs([str(performance_uri)], self.workdir / "performance")
        steps = int(finetune_steps or 0) or self.finetune_steps  # the graph's parameter, else the runner's
        settings = FineTuneSettings() if steps is None else FineTuneSettings(steps=steps)
        loops = {
            "knobs": self.report.steps("feedback", self.feedback_steps, "objective"),
            "finetune": self.report.steps("feedback", settings.steps, "loss"),
        }
        current = [loops["knobs"]]

        def chosen(choice) -> None:
            current[0] = loops[choice.method]
            self.report("feedback", choice.reason, method=choice.method)

        def progress(step: int, loss: float) -> None:  # the knobs' optimiser or the fine-tune's trainer
            if current[0] is not None:
                current[0](step, loss)

        result = stages.feedback(
            self.session.store,
            parent,
            performance,
            regions,
            method=str(feedback_method or "auto"),
            workdir=self.workdir,
            practice_id=practice_id,
            runner=self.runner,
            steps=self.feedback_steps,
            finetune=settings,
            progress=progress,
            on_method=chosen,
            show_training=self.show_training,
            performance_uri=str(performance_uri),
            started=self.started,
        )
        return {**result.outputs(), **_published(self.session, deu, result.version)}

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
        }.get(step, "done")
