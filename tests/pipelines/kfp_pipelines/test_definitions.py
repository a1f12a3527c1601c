"""Compiled IR YAML of the three practice pipelines: components, parameters, placement, retries,
and steps/wiring equal to their graphs (pipelines.stages.graph)."""

from __future__ import annotations

import pytest
import yaml

from pipelines.kfp_pipelines import (
    PIPELINE_PARAMETERS,
    UnknownPracticeTypeError,
    compile_practice_pipeline,
    compiled_wiring,
)
from pipelines.kfp_pipelines.components import make_components
from pipelines.stages.graph import GRAPHS, Out

GPU = dict(
    image="registry.example/amadeus-studio:1.2",
    accelerator_type="nvidia.com/gpu",
    accelerator_limit=1,
    node_selector={"amadeus.io/pool": "gpu"},
    tolerations=[{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
    cpu_request="2",
    memory_request="8Gi",
)


def _compile(tmp_path, kind, **settings):
    path = compile_practice_pipeline(kind, str(tmp_path / f"{kind}.yaml"), **settings)
    docs = list(yaml.safe_load_all(open(path)))
    return docs[0], (docs[1] if len(docs) > 1 else {})


def test_imitation_has_the_stages_with_gpu_placement_and_retries(tmp_path):
    spec, platform = _compile(tmp_path, "imitation", **GPU)
    tasks = spec["root"]["dag"]["tasks"]
    assert set(tasks) == {"ingest", "features", "train", "evaluate", "push"}
    assert tasks["features"]["dependentTasks"] == ["ingest"] and sorted(tasks["push"]["dependentTasks"]) == [
        "evaluate",
        "features",
        "ingest",
        "train",
    ]
    assert set(spec["root"]["inputDefinitions"]["parameters"]) == set(PIPELINE_PARAMETERS)
    executors = spec["deploymentSpec"]["executors"]
    assert {e["container"]["image"] for e in executors.values()} == {GPU["image"]}
    train = executors["exec-train"]["container"]["resources"]
    assert train["accelerator"]["resourceType"] == "nvidia.com/gpu" and int(train["accelerator"]["resourceCount"]) == 1
    assert "accelerator" not in executors["exec-ingest"]["container"].get("resources", {})
    for step in ("ingest", "push"):
        assert tasks[step]["retryPolicy"]["maxRetryCount"] == 3
    assert "retryPolicy" not in tasks["train"]
    k8s = platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    assert k8s["exec-train"]["nodeSelector"]["labels"] == {"amadeus.io/pool": "gpu"}
    assert k8s["exec-train"]["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    assert "exec-ingest" not in k8s
    # The components run the shared stages.
    assert "from pipelines.kfp_pipelines._steps import run_train" in "".join(
        executors["exec-train"]["container"]["command"]
    )


@pytest.mark.parametrize("kind", ["imitation", "tuning"])
def test_the_bundle_preview_is_an_evaluate_artifact_that_push_consumes(tmp_path, kind):
    """On a cluster each artifact moves on its own: the preview push bundles must be one of
    evaluate's declared output artifacts, and an input artifact of push wired to it."""
    spec, _ = _compile(tmp_path, kind, image="img:1")
    components = spec["components"]
    dags = [spec["root"]["dag"]] + [c["dag"] for c in components.values() if "dag" in c]
    tasks = {name: task for dag in dags for name, task in dag["tasks"].items()}
    evaluate = components[tasks["evaluate"]["componentRef"]["name"]]
    assert evaluate["outputDefinitions"]["artifacts"]["bundle_preview"]["artifactType"]["schemaTitle"] == (
        "system.Artifact"
    )
    push = components[tasks["push"]["componentRef"]["name"]]
    assert "bundle_preview" in push["inputDefinitions"]["artifacts"]
    assert tasks["push"]["inputs"]["artifacts"]["bundle_preview"] == {
        "taskOutputArtifact": {"outputArtifactKey": "bundle_preview", "producerTask": "evaluate"}
    }
    assert "evaluate" in tasks["push"]["dependentTasks"]
    assert compiled_wiring(str(tmp_path / f"{kind}.yaml"))["push"]["bundle_preview"] == "evaluate.bundle_preview"


def test_tuning_branches_between_derive_and_the_stages(tmp_path):
    spec, _ = _compile(tmp_path, "tuning", image="img:1")
    assert set(spec["root"]["dag"]["tasks"]) == {"recall", "condition-branches-1"}
    branches = spec["components"]["comp-condition-branches-1"]["dag"]["tasks"]
    inside = [set(spec["components"][t["componentRef"]["name"]]["dag"]["tasks"]) for t in branches.values()]
    assert sorted(inside, key=len) == [{"derive"}, {"ingest", "features", "train", "evaluate", "push"}]


def test_feedback_and_cpu_only_defaults(tmp_path, monkeypatch):
    monkeypatch.setenv("AMADEUS_STUDIO_IMAGE", "from-env:7")
    spec, platform = _compile(tmp_path, "feedback")
    assert set(spec["root"]["dag"]["tasks"]) == {"feedback"}
    container = spec["deploymentSpec"]["executors"]["exec-feedback"]["container"]
    assert container["image"] == "from-env:7" and "accelerator" not in container.get("resources", {})
    assert not platform


def test_unknown_type_is_refused(tmp_path):
    with pytest.raises(UnknownPracticeTypeError, match="unknown practice type 'jam'"):
        compile_practice_pipeline("jam", str(tmp_path / "x.yaml"), image="img")
    assert not (tmp_path / "x.yaml").exists()


@pytest.mark.parametrize("kind", ["imitation", "tuning", "feedback"])
def test_compiled_steps_and_wiring_are_the_graphs(tmp_path, kind):
    """The IR is built from pipelines.stages.graph: same tasks, every input from the same place."""
    path = compile_practice_pipeline(kind, str(tmp_path / f"{kind}.yaml"), image="img:1")
    graph = GRAPHS[kind]
    assert compiled_wiring(path) == graph.wiring()
    spec = next(yaml.safe_load_all(open(path)))
    # Dependencies follow the data: a task waits for exactly the steps of its DAG whose outputs it
    # reads (a branch's steps read recall's outputs through the condition's inputs).
    dags = [spec["root"]["dag"]] + [c["dag"] for c in spec["components"].values() if "dag" in c]
    for dag in dags:
        for name, task in dag["tasks"].items():
            if name in graph.wiring():
                reads = {s.step for s in graph.step(name).inputs.values() if isinstance(s, Out)}
                assert set(task.get("dependentTasks", [])) == reads & set(dag["tasks"]), name


def test_every_graph_step_has_a_component_with_its_inputs():
    components = make_components("img:1")
    for graph in GRAPHS.values():
        for step in graph.steps():
            component = getattr(components, step.name)
            declared = component.component_spec.inputs or {}
            assert set(declared) == set(step.inputs), step.name
            outputs = set(component.component_spec.outputs or {})
            assert set(step.outputs) <= outputs and (not step.returns or "Output" in outputs), step.name
