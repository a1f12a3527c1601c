"""The practice graphs: steps in order, each input wired from a parameter or an earlier step's output,
and a graph that reads an output nobody made before is refused."""

from __future__ import annotations

import importlib

import pytest

from pipelines.stages.graph import (
    FEEDBACK,
    GRAPHS,
    IMITATION,
    TUNING,
    Const,
    GraphError,
    Out,
    Param,
    PipelineGraph,
    Step,
)


def test_imitation_is_the_five_tfx_stages_in_order():
    assert [s.name for s in IMITATION.steps()] == ["ingest", "features", "train", "evaluate", "push"]
    wiring = IMITATION.wiring()
    assert wiring["features"]["recordings"] == "ingest.recordings"
    assert wiring["evaluate"] == {
        "model": "train.model",
        "examples": "features.examples",
        "learner_profile_json": "param:learner_profile_json",
    }
    assert (
        wiring["push"]["parent_version"] == "train.parent_version"
        and wiring["push"]["practice_kind"] == "const:'imitation'"
    )
    # The bundle's preview is evaluate's own output, handed to push (not found beside the evaluation).
    assert IMITATION.step("evaluate").outputs == ("evaluation", "bundle_preview")
    assert wiring["push"]["bundle_preview"] == "evaluate.bundle_preview"
    assert IMITATION.result == (Out("push", "version"),)


def test_tuning_reruns_the_same_stages_on_what_recall_found():
    assert [s.name for s in TUNING.steps()] == ["recall", "derive", "ingest", "features", "train", "evaluate", "push"]
    wiring = TUNING.wiring()
    assert wiring["ingest"] == {
        "audio_uris": "recall.audio_uris",
        "learner_profile_json": "recall.learner_profile_json",
    }
    assert wiring["train"]["base_version"] == "recall.parent_version" and wiring["train"]["new"] == "const:False"
    assert wiring["push"]["practice_kind"] == "const:'tuning'"
    # Apart from what recall supplies, the stages are wired exactly as in imitation.
    recalled = {
        "param:audio_uris": "recall.audio_uris",
        "param:base_version": "recall.parent_version",
        "param:learner_profile_json": "recall.learner_profile_json",
        "param:new": "const:False",
        "const:'imitation'": "const:'tuning'",
    }
    for step, inputs in IMITATION.wiring().items():
        assert {k: recalled.get(v, v) for k, v in inputs.items()} == wiring[step]


def test_every_step_names_a_function_that_exists():
    for graph in GRAPHS.values():
        for step in graph.steps():
            module, _, name = step.calls.rpartition(".")
            assert callable(getattr(importlib.import_module(module), name)), step.calls
            assert step.placement in ("compute", "storage")
    assert FEEDBACK.parameters() >= {"performance_uri", "feedback_regions_json"}
    assert "audio_uris" not in TUNING.parameters()  # tuning practises on the recalled audio


def test_reading_an_output_no_earlier_step_makes_is_refused():
    a = Step("a", "x.a", {"deu": Param("deu")}, outputs=("made",))
    with pytest.raises(GraphError, match=r"step 'b' input 'm' reads a.missing"):
        PipelineGraph(
            "bad", (a, Step("b", "x.b", {"m": Out("a", "missing")}, returns="version")), result=(Out("b", "version"),)
        )
    with pytest.raises(GraphError, match=r"reads later.made"):
        PipelineGraph(
            "bad", (Step("b", "x.b", {"m": Out("later", "made")}, returns="version"),), result=(Out("b", "version"),)
        )
    with pytest.raises(GraphError, match="step 'a' twice"):
        PipelineGraph("bad", (a, a), result=(Out("a", "made"),))
    with pytest.raises(GraphError, match="result a.version"):
        PipelineGraph("bad", (a,), result=(Out("a", "version"),))
    assert str(Const(3)) == "const:3"
