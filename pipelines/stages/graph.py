"""The practice pipelines, declared once: steps, what each calls, and how outputs feed inputs.

Both executors are derived from these graphs:

* :mod:`pipelines.kfp_pipelines.definitions` builds the KFP ``@dsl.pipeline``
  function from a graph (compiled to IR YAML for a cluster, or run by
  ``kfp.local``): one task per :class:`Step`, its inputs wired from
  :class:`Param` (a pipeline parameter), :class:`Out` (an earlier step's
  output) or :class:`Const`; a :class:`Branch` becomes ``dsl.If``/``dsl.Else``.
* :mod:`pipelines.practice.embedded` walks the same graph in-process (resumable, with
  ``<step>.done.json`` markers), calling an in-process binding per step
  (:class:`pipelines.practice.bindings.InProcessSteps`).

Each binding is a thin call of the stage function the step names (:mod:`pipelines.stages`).

Adding, removing or rewiring a step therefore changes both; the tests compare
the compiled IR and the embedded runner's markers against these graphs.

No KFP import here: the embedded runner needs none.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "FEEDBACK",
    "GRAPHS",
    "IMITATION",
    "TUNING",
    "Branch",
    "Const",
    "GraphError",
    "Out",
    "Param",
    "PipelineGraph",
    "Step",
]


class GraphError(ValueError):
    """A pipeline graph refers to a step or output that does not exist before it."""


@dataclass(frozen=True)
class Param:
    """A pipeline parameter (one of ``pipelines.kfp_pipelines.PIPELINE_PARAMETERS``)."""

    name: str

    def __str__(self) -> str:
        return f"param:{self.name}"


@dataclass(frozen=True)
class Out:
    """Output ``name`` of the earlier step ``step``."""

    step: str
    name: str

    def __str__(self) -> str:
        return f"{self.step}.{self.name}"


@dataclass(frozen=True)
class Const:
    """A constant input value (JSON-able)."""

    value: Any

    def __str__(self) -> str:
        return f"const:{self.value!r}"


Source = Param | Out | Const


@dataclass(frozen=True)
class Step:
    """One step: a KFP component of the same name, and an in-process binding of the same name.

    Attributes:
        name: the step (the KFP task and component name; the embedded marker ``<name>.done.json``).
        calls: the stage function the step runs (dotted path into :mod:`pipelines.stages`;
            documentation and a test's check).
        inputs: input name → where its value comes from.
        outputs: named outputs later steps may read (KFP output artifacts / named outputs).
        returns: the name of the step's single return value (KFP's ``Output``), or "".
        placement: "compute" (accelerators, node selector, tolerations) or "storage" (retried).
    """

    name: str
    calls: str
    inputs: Mapping[str, Source]
    outputs: tuple[str, ...] = ()
    returns: str = ""
    placement: str = "compute"

    def provides(self, name: str) -> bool:
        return name in self.outputs or (bool(self.returns) and name == self.returns)


@dataclass(frozen=True)
class Branch:
    """``then`` when output ``test`` equals ``equals``, else ``otherwise`` (KFP ``dsl.If``/``dsl.Else``)."""

    test: Out
    equals: Any
    then: tuple[Step, ...]
    otherwise: tuple[Step, ...]
    then_name: str = ""
    otherwise_name: str = ""


@dataclass(frozen=True)
class PipelineGraph:
    """A practice pipeline: nodes in execution order and the output(s) that are its result.

    ``result`` names the version-number output; with a :class:`Branch`, one per branch
    (the one whose step ran is the result; KFP ``dsl.OneOf``).
    """

    practice_type: str
    nodes: tuple[Step | Branch, ...]
    result: tuple[Out, ...]
    description: str = ""
    _steps: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        steps: dict[str, Step] = {}
        self._check(self.nodes, steps, {})
        object.__setattr__(self, "_steps", steps)
        for out in self.result:
            if out.step not in steps or not steps[out.step].provides(out.name):
                raise GraphError(f"pipeline {self.practice_type}: result {out} is no step's output")

    def _check(self, nodes, steps: dict, visible: dict) -> None:
        for node in nodes:
            if isinstance(node, Branch):
                self._source(node.test, visible, "branch test")
                for arm in (node.then, node.otherwise):
                    self._check(arm, steps, dict(visible))
                continue
            if node.name in steps:
                raise GraphError(f"pipeline {self.practice_type}: step {node.name!r} twice")
            for name, source in node.inputs.items():
                self._source(source, visible, f"step {node.name!r} input {name!r}")
            steps[node.name] = visible[node.name] = node

    def _source(self, source, visible: dict, what: str) -> None:
        if isinstance(source, Out) and (source.step not in visible or not visible[source.step].provides(source.name)):
            raise GraphError(f"pipeline {self.practice_type}: {what} reads {source}, which no earlier step provides")

    def step(self, name: str) -> Step:
        return self._steps[name]

    def steps(self) -> Iterator[Step]:
        """Every step, depth first in declaration order (both arms of a branch)."""
        yield from self._steps.values()

    def parameters(self) -> set[str]:
        """The pipeline parameters any step (or branch test) reads."""
        return {s.name for step in self.steps() for s in step.inputs.values() if isinstance(s, Param)}

    def wiring(self) -> dict[str, dict[str, str]]:
        """``{step: {input: "param:x" | "step.output" | "const:v"}}``: what the tests compare."""
        return {step.name: {name: str(source) for name, source in step.inputs.items()} for step in self.steps()}


_REGISTRY = {"registry_uri": Param("registry_uri"), "mlflow_tracking_uri": Param("mlflow_tracking_uri")}


def _practice_stages(
    *, kind: str, audio_uris: Source, base_version: Source, learner: Source, new: Source
) -> tuple[Step, ...]:
    """ingest → features → train → evaluate → push (TFX's stages), shared by imitation and tuning."""
    return (
        Step(
            "ingest",
            "pipelines.stages.ingest",
            {"audio_uris": audio_uris, "learner_profile_json": learner},
            outputs=("recordings",),
            returns="count",
            placement="storage",
        ),
        Step(
            "features",
            "pipelines.stages.features",
            {
                "recordings": Out("ingest", "recordings"),
                "learner_profile_json": learner,
                "feature_cache_dir": Param("feature_cache_dir"),
            },
            outputs=("examples",),
            returns="cache",
        ),
        Step(
            "train",
            "pipelines.stages.train",
            {
                "examples": Out("features", "examples"),
                "learner_profile_json": learner,
                "deu": Param("deu"),
                "base_version": base_version,
                "new": new,
                **_REGISTRY,
            },
            outputs=("model",),
            returns="parent_version",
        ),
        Step(
            "evaluate",
            "pipelines.stages.evaluate",
            {"model": Out("train", "model"), "examples": Out("features", "examples"), "learner_profile_json": learner},
            outputs=("evaluation", "bundle_preview"),
            returns="blessed",
        ),
        Step(
            "push",
            "pipelines.stages.push",
            {
                "deu": Param("deu"),
                "practice_id": Param("practice_id"),
                "practice_kind": Const(kind),
                "model": Out("train", "model"),
                "examples": Out("features", "examples"),
                "recordings": Out("ingest", "recordings"),
                "evaluation": Out("evaluate", "evaluation"),
                "bundle_preview": Out("evaluate", "bundle_preview"),
                "learner_profile_json": learner,
                "player_profile_json": Param("player_profile_json"),
                "parent_version": Out("train", "parent_version"),
                **_REGISTRY,
            },
            returns="version",
            placement="storage",
        ),
    )


IMITATION = PipelineGraph(
    "imitation",
    _practice_stages(
        kind="imitation",
        audio_uris=Param("audio_uris"),
        base_version=Param("base_version"),
        learner=Param("learner_profile_json"),
        new=Param("new"),
    ),
    result=(Out("push", "version"),),
    description="learn a personality from recordings",
)

TUNING = PipelineGraph(
    "tuning",
    (
        Step(
            "recall",
            "pipelines.stages.recall",
            {
                "deu": Param("deu"),
                "base_version": Param("base_version"),
                "learner_profile_json": Param("learner_profile_json"),
                "player_profile_json": Param("player_profile_json"),
                **_REGISTRY,
            },
            outputs=("mode", "parent_version", "audio_uris", "learner_profile_json"),
            placement="storage",
        ),
        Branch(
            Out("recall", "mode"),
            "player",
            then=(
                Step(
                    "derive",
                    "pipelines.stages.derive",
                    {
                        "deu": Param("deu"),
                        "parent_version": Out("recall", "parent_version"),
                        "player_profile_json": Param("player_profile_json"),
                        "practice_id": Param("practice_id"),
                        **_REGISTRY,
                    },
                    returns="version",
                    placement="storage",
                ),
            ),
            otherwise=_practice_stages(
                kind="tuning",
                audio_uris=Out("recall", "audio_uris"),
                base_version=Out("recall", "parent_version"),
                learner=Out("recall", "learner_profile_json"),
                new=Const(False),
            ),
            then_name="playerProfile-only",
            otherwise_name="learnerProfile-changed",
        ),
    ),
    result=(Out("derive", "version"), Out("push", "version")),
    description="a playerProfile change at once, a learnerProfile change by re-running the practice",
)

FEEDBACK = PipelineGraph(
    "feedback",
    (
        Step(
            "feedback",
            "pipelines.stages.feedback",
            {
                "deu": Param("deu"),
                "base_version": Param("base_version"),
                "performance_uri": Param("performance_uri"),
                "feedback_regions_json": Param("feedback_regions_json"),
                "feedback_method": Param("feedback_method"),
                "finetune_steps": Param("finetune_steps"),
                "practice_id": Param("practice_id"),
                **_REGISTRY,
            },
            returns="version",
        ),
    ),
    result=(Out("feedback", "version"),),
    description="playerProfile knobs optimised, or the decoder fine-tuned, toward liked regions of a performance",
)

GRAPHS: dict[str, PipelineGraph] = {g.practice_type: g for g in (IMITATION, TUNING, FEEDBACK)}
