"""The three practice pipelines (imitation, tuning, feedback) and their compilation to KFP IR YAML.

The steps, their order and how outputs feed inputs are not written here: each
pipeline is built from its graph in :mod:`pipelines.stages.graph`, the same
graph the embedded runner (:mod:`pipelines.practice`) walks in-process.

Every pipeline takes the same parameters (the studio operator passes them all
to whichever type it runs; ``studio_operator.operator.practice.PracticeRequest.pipeline_parameters``):

=========================  ======  ===============================================================
``deu``                    str     the deu's name
``practice_id``            str     recorded in the manifest (the Practice resource's uid)
``audio_uris``             str     JSON list of local paths or ``s3://`` URIs (imitation)
``base_version``           int     the version to continue / tune / judge; 0 = the latest
``learner_profile_json``   str     JSON object of learnerProfile fields (changes, for tuning)
``player_profile_json``    str     JSON object of playerProfile fields
``performance_uri``        str     the judged performance's audio (feedback)
``feedback_regions_json``  str     JSON list of ``{"start": s, "end": s, "label": "good"|"bad"}`` (feedback)
``feedback_method``        str     ``auto`` (default) | ``knobs`` | ``finetune`` (feedback)
``finetune_steps``         int     the fine-tune's training steps; 0 = the default budget (feedback)
``registry_uri``           str     ``s3://bucket/prefix`` or empty (``$AMADEUS_REGISTRY``, else local)
``mlflow_tracking_uri``    str     MLflow server or empty (``$MLFLOW_TRACKING_URI``)
``feature_cache_dir``      str     feature cache folder (default ``$AMADEUS_HOME/cache/features``)
``new``                    bool    imitation: start afresh instead of continuing the latest version
=========================  ======  ===============================================================

Placement comes from the compile call (the learnerProfile/Practice settings):
``accelerator_type``/``accelerator_limit`` (``set_accelerator_type`` /
``set_accelerator_limit``), node selectors and tolerations (kfp-kubernetes) and
CPU/memory requests go on the compute steps (features, train, evaluate,
feedback); ingest and push, which talk to object storage, are retried with
exponential backoff.
"""

# (No `from __future__ import annotations`: KFP reads the pipeline function's annotations.)

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kfp import compiler, dsl
from kfp import kubernetes as kfp_kubernetes

from pipelines.stages.graph import GRAPHS, Branch, Const, Param, PipelineGraph

from .components import Components, make_components

__all__ = [
    "PIPELINE_PARAMETERS",
    "PRACTICE_TYPES",
    "Placement",
    "UnknownPracticeTypeError",
    "build_pipeline",
    "compile_practice_pipeline",
    "compiled_wiring",
]

PRACTICE_TYPES = tuple(GRAPHS)  # imitation, tuning, feedback

PIPELINE_PARAMETERS = (
    "deu",
    "practice_id",
    "audio_uris",
    "base_version",
    "learner_profile_json",
    "player_profile_json",
    "performance_uri",
    "feedback_regions_json",
    "feedback_method",
    "finetune_steps",
    "registry_uri",
    "mlflow_tracking_uri",
    "feature_cache_dir",
    "new",
)


class UnknownPracticeTypeError(ValueError):
    """A practice type other than imitation, tuning or feedback."""


@dataclass(frozen=True)
class Placement:
    """Where the compute steps run (from the learnerProfile's device and the Practice's settings)."""

    accelerator_type: str = ""
    accelerator_limit: int = 0
    node_selector: Mapping[str, str] = field(default_factory=dict)
    tolerations: Sequence[Mapping[str, str]] = ()
    cpu_request: str = ""
    memory_request: str = ""
    retries: int = 3

    def compute(self, task):
        """Resources, node selector and tolerations on a compute task."""
        if self.accelerator_limit:
            task.set_accelerator_type(self.accelerator_type or "nvidia.com/gpu").set_accelerator_limit(
                self.accelerator_limit
            )
        if self.cpu_request:
            task.set_cpu_request(self.cpu_request)
        if self.memory_request:
            task.set_memory_request(self.memory_request)
        for key, value in sorted(self.node_selector.items()):
            kfp_kubernetes.add_node_selector(task, label_key=key, label_value=value)
        for toleration in self.tolerations:
            kfp_kubernetes.add_toleration(
                task,
                key=toleration.get("key"),
                operator=toleration.get("operator", "Equal"),
                value=toleration.get("value"),
                effect=toleration.get("effect"),
            )
        return task

    def flaky(self, task):
        """Exponential-backoff retries on a step that talks to object storage."""
        if self.retries:
            task.set_retry(
                num_retries=self.retries, backoff_duration="10s", backoff_factor=2.0, backoff_max_duration="300s"
            )
        return task


def _source(source, params: dict, tasks: dict, graph: PipelineGraph):
    """A graph input source as a KFP value: a pipeline parameter, a constant, or an upstream task's output."""
    if isinstance(source, Param):
        return params[source.name]
    if isinstance(source, Const):
        return source.value
    step = graph.step(source.step)
    return tasks[source.step].outputs["Output" if source.name == step.returns else source.name]


def _add(nodes, c: Components, place: Placement, params: dict, tasks: dict, graph: PipelineGraph) -> None:
    """One KFP task per graph step, in graph order; a Branch becomes dsl.If / dsl.Else."""
    for node in nodes:
        if isinstance(node, Branch):
            with dsl.If(_source(node.test, params, tasks, graph) == node.equals, name=node.then_name or None):
                _add(node.then, c, place, params, tasks, graph)
            with dsl.Else(name=node.otherwise_name or None):
                _add(node.otherwise, c, place, params, tasks, graph)
            continue
        component = getattr(c, node.name)
        task = component(
            **{name: _source(s, params, tasks, graph) for name, s in node.inputs.items()}
        ).set_display_name(node.name)
        tasks[node.name] = place.flaky(task) if node.placement == "storage" else place.compute(task)


def build_pipeline(practice_type: str, *, image: str | None = None, placement: Placement | None = None):
    """The ``@dsl.pipeline`` function of one practice type (from its graph, :mod:`pipelines.stages.graph`),
    its components on ``image``."""
    if practice_type not in PRACTICE_TYPES:
        raise UnknownPracticeTypeError(
            f"unknown practice type {practice_type!r} (expected one of {', '.join(PRACTICE_TYPES)})"
        )
    graph = GRAPHS[practice_type]
    c = make_components(image)
    place = placement or Placement()

    @dsl.pipeline(name=f"amadeus-{practice_type}", description=f"Amadeus {practice_type} practice: {graph.description}")
    def practice(
        deu: str,
        practice_id: str = "",
        audio_uris: str = "[]",
        base_version: int = 0,
        learner_profile_json: str = "{}",
        player_profile_json: str = "{}",
        performance_uri: str = "",
        feedback_regions_json: str = "[]",
        feedback_method: str = "auto",
        finetune_steps: int = 0,
        registry_uri: str = "",
        mlflow_tracking_uri: str = "",
        feature_cache_dir: str = "",
        new: bool = False,
    ) -> int:
        params = dict(
            deu=deu,
            practice_id=practice_id,
            audio_uris=audio_uris,
            base_version=base_version,
            learner_profile_json=learner_profile_json,
            player_profile_json=player_profile_json,
            performance_uri=performance_uri,
            feedback_regions_json=feedback_regions_json,
            feedback_method=feedback_method,
            finetune_steps=finetune_steps,
            registry_uri=registry_uri,
            mlflow_tracking_uri=mlflow_tracking_uri,
            feature_cache_dir=feature_cache_dir,
            new=new,
        )
        tasks: dict = {}
        _add(graph.nodes, c, place, params, tasks, graph)
        results = [_source(out, params, tasks, graph) for out in graph.result]
        return results[0] if len(results) == 1 else dsl.OneOf(*results)

    return practice


def compile_practice_pipeline(
    practice_type: str,
    package_path: str,
    *,
    image: str | None = None,
    accelerator_type: str = "",
    accelerator_limit: int = 0,
    node_selector: Mapping[str, str] | None = None,
    tolerations: Sequence[Mapping[str, str]] | None = None,
    cpu_request: str = "",
    memory_request: str = "",
    retries: int = 3,
) -> str:
    """Compile one practice pipeline to KFP IR YAML at ``package_path``; returns the path.

    Args:
        practice_type: imitation | tuning | feedback.
        image: the studio image every component runs on (default ``$AMADEUS_STUDIO_IMAGE``).
        accelerator_type, accelerator_limit: GPUs on the compute steps (e.g. ``nvidia.com/gpu``, 1).
        node_selector, tolerations: Kubernetes placement of the compute steps (kfp-kubernetes).
        cpu_request, memory_request: e.g. ``"2"``, ``"8Gi"``.
        retries: retries of the object-storage steps (ingest, push, recall, derive).
    """
    placement = Placement(
        accelerator_type=accelerator_type,
        accelerator_limit=int(accelerator_limit or 0),
        node_selector=dict(node_selector or {}),
        tolerations=tuple(tolerations or ()),
        cpu_request=cpu_request,
        memory_request=memory_request,
        retries=retries,
    )
    pipeline = build_pipeline(practice_type, image=image, placement=placement)
    Path(package_path).parent.mkdir(parents=True, exist_ok=True)
    compiler.Compiler().compile(pipeline, str(package_path))
    return str(package_path)


def compiled_wiring(package_path: str | Path) -> dict[str, dict[str, str]]:
    """The step wiring of compiled IR YAML, in the notation of :meth:`PipelineGraph.wiring`.

    ``{task: {input: "param:<name>" | "<step>.<output>" | "const:<repr>"}}`` for every
    component task, conditions flattened (a branch's inputs traced back to their producers).
    A task's single return value (KFP ``Output``) is named as its graph step names it.
    """
    import yaml

    spec = next(yaml.safe_load_all(Path(package_path).read_text()))
    graph = GRAPHS.get(spec["pipelineInfo"]["name"].removeprefix("amadeus-"))
    wiring: dict[str, dict[str, str]] = {}

    def output(task: str, key: str) -> str:
        if key == "Output" and graph is not None and task in graph._steps:
            key = graph.step(task).returns or key
        return f"{task}.{key}"

    def resolve(value: dict, env: dict) -> str:
        if "componentInputParameter" in value:
            return env[value["componentInputParameter"]]
        if "taskOutputParameter" in value:
            ref = value["taskOutputParameter"]
            return output(ref["producerTask"], ref["outputParameterKey"])
        if "taskOutputArtifact" in value:
            ref = value["taskOutputArtifact"]
            return output(ref["producerTask"], ref["outputArtifactKey"])
        return f"const:{value['runtimeValue']['constant']!r}"

    def walk(dag: dict, env: dict) -> None:
        for name, task in dag["tasks"].items():
            inputs = task.get("inputs", {})
            resolved = {
                k: resolve(v, env) for kind in ("parameters", "artifacts") for k, v in inputs.get(kind, {}).items()
            }
            component = spec["components"][task["componentRef"]["name"]]
            if "dag" in component:
                walk(component["dag"], resolved)
            else:
                wiring[name] = resolved

    walk(spec["root"]["dag"], {name: f"param:{name}" for name in spec["root"]["inputDefinitions"]["parameters"]})
    return wiring
