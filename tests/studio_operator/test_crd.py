"""Practice specs against the CRD's own openAPIV3Schema and CEL rules (as the API server checks them)."""

from __future__ import annotations

import copy

import pytest

from studio_operator.crd import practice_crd
from studio_operator.operator.validation import InvalidPracticeError, practice_errors, validate_practice


def practice(**spec):
    return {
        "apiVersion": "amadeus.dev/v1alpha1",
        "kind": "Practice",
        "metadata": {"name": "p", "namespace": "n"},
        "spec": spec,
    }


VALID = [
    practice(deu="cello", type="imitation", audio=["s3://b/take.wav", "/data/take2.wav"]),
    practice(deu="cello", type="tuning", playerProfile={"gainDb": -3, "mpe": {"pitchBendRange": 48}}),
    practice(
        deu="cello",
        type="tuning",
        baseVersion=2,
        learnerProfile={"steps": 500, "fftSizes": [2048, 512], "f0Method": "yin"},
    ),
    practice(
        deu="cello.v2",
        type="feedback",
        feedback={"performance": "s3://b/perf.wav", "regions": [{"start": 0, "end": 1.5, "label": "good"}]},
        resources={
            "gpu": {"count": 1},
            "nodeSelector": {"pool": "gpu"},
            "tolerations": [{"key": "gpu", "operator": "Exists"}],
        },
        backend="job",
    ),
    practice(
        deu="cello",
        type="feedback",
        feedback={
            "performance": "/p.wav",
            "regions": [{"start": 0, "end": 1, "label": "good"}],
            "method": "finetune",
            "finetuneSteps": 40,
        },
    ),
    practice(
        deu="cello",
        type="feedback",
        feedback={"performance": "/p.wav", "regions": [{"start": 0, "end": 1, "label": "good"}], "method": "knobs"},
    ),
]

_REGIONS = [{"start": 0, "end": 1, "label": "good"}]

INVALID = {
    "missing deu": (practice(type="imitation", audio=["/a.wav"]), "spec: 'deu' is a required property"),
    "unknown type": (practice(deu="cello", type="improvisation"), "spec.type: 'improvisation' is not one of"),
    "bad deu name": (practice(deu="Cello!", type="tuning", playerProfile={}), "spec.deu: 'Cello!' does not match"),
    "imitation without audio": (practice(deu="cello", type="imitation"), "spec: an imitation practice needs audio"),
    "feedback without regions": (
        practice(deu="cello", type="feedback"),
        "spec: a feedback practice needs feedback.regions",
    ),
    "region end before start": (
        practice(
            deu="c",
            type="feedback",
            feedback={"performance": "/p.wav", "regions": [{"start": 4, "end": 2, "label": "bad"}]},
        ),
        "spec.feedback.regions[0]: a region's end must be after its start",
    ),
    "unknown region label": (
        practice(
            deu="c",
            type="feedback",
            feedback={"performance": "/p.wav", "regions": [{"start": 1, "end": 2, "label": "meh"}]},
        ),
        "spec.feedback.regions[0].label: 'meh' is not one of",
    ),
    "tuning without a change": (
        practice(deu="cello", type="tuning"),
        "spec: a tuning practice needs a learnerProfile or a playerProfile",
    ),
    "unknown profile field": (
        practice(deu="cello", type="tuning", playerProfile={"volume": 3}),
        "spec.playerProfile: Additional properties are not allowed ('volume' was unexpected)",
    ),
    "sample rate out of range": (
        practice(deu="c", type="tuning", learnerProfile={"sampleRate": 8000}),
        "spec.learnerProfile.sampleRate: 8000 is less than the minimum of 16000",
    ),
    "too many gpus": (
        practice(deu="c", type="imitation", audio=["/a.wav"], resources={"gpu": {"count": 64}}),
        "spec.resources.gpu.count: 64 is greater than the maximum of 16",
    ),
    "unknown backend": (
        practice(deu="c", type="imitation", audio=["/a.wav"], backend="argo"),
        "spec.backend: 'argo' is not one of",
    ),
    "audio not a uri": (
        practice(deu="c", type="imitation", audio=["take.wav"]),
        "spec.audio[0]: 'take.wav' does not match",
    ),
    "unknown feedback method": (
        practice(deu="c", type="feedback", feedback={"performance": "/p.wav", "regions": _REGIONS, "method": "magic"}),
        "spec.feedback.method: 'magic' is not one of ['auto', 'knobs', 'finetune']",
    ),
    "fine-tune budget out of range": (
        practice(deu="c", type="feedback", feedback={"performance": "/p.wav", "regions": _REGIONS, "finetuneSteps": 0}),
        "spec.feedback.finetuneSteps: 0 is less than the minimum of 1",
    ),
    "fine-tune budget with method knobs": (
        practice(
            deu="c",
            type="feedback",
            feedback={"performance": "/p.wav", "regions": _REGIONS, "method": "knobs", "finetuneSteps": 10},
        ),
        "spec.feedback: feedback.finetuneSteps is the fine-tune's budget: it does not apply to method knobs",
    ),
    "feedback method on a tuning": (
        practice(
            deu="c",
            type="tuning",
            playerProfile={"gainDb": 1},
            feedback={"performance": "/p.wav", "regions": _REGIONS, "method": "knobs"},
        ),
        "spec: feedback is only allowed on a feedback practice",
    ),
    "Exists toleration with a value": (
        practice(
            deu="c",
            type="imitation",
            audio=["/a.wav"],
            resources={"tolerations": [{"key": "g", "operator": "Exists", "value": "x"}]},
        ),
        "spec.resources.tolerations[0]: a toleration with operator Exists must not have a value",
    ),
}


@pytest.mark.parametrize("obj", VALID, ids=range(len(VALID)))
def test_valid_practices_pass(obj):
    assert practice_errors(obj) == []


@pytest.mark.parametrize("case", sorted(INVALID), ids=sorted(INVALID))
def test_invalid_practices_are_rejected_naming_the_field(case):
    obj, expected = INVALID[case]
    errors = practice_errors(obj)
    assert any(error.startswith(expected) for error in errors), errors
    with pytest.raises(InvalidPracticeError, match="Practice 'p' is invalid"):
        validate_practice(obj)


def test_the_spec_is_immutable_on_update():
    old = VALID[0]
    new = copy.deepcopy(old)
    new["spec"]["audio"].append("s3://b/more.wav")
    assert practice_errors(new, old) == ["spec: spec is immutable: create a new Practice to practise again"]
    assert practice_errors(copy.deepcopy(old), old) == []


def test_crd_shape():
    crd = practice_crd()
    version = crd["spec"]["versions"][0]
    assert crd["metadata"]["name"] == "practices.amadeus.dev" and crd["spec"]["names"]["shortNames"] == ["prac"]
    assert version["name"] == "v1alpha1" and version["subresources"] == {"status": {}}
    assert [c["name"] for c in version["additionalPrinterColumns"]] == ["Deu", "Type", "Phase", "Version", "Age"]
    status = version["schema"]["openAPIV3Schema"]["properties"]["status"]["properties"]
    assert {
        "phase",
        "conditions",
        "runId",
        "version",
        "metrics",
        "observedGeneration",
        "startTime",
        "completionTime",
    } <= set(status)


def test_the_feedback_methods_are_the_pipelines_own():
    """The CRD's (and the studio's) method enum is exactly what the feedback stage accepts, default first."""
    from pipelines.feedback import FEEDBACK_METHODS as STAGE_METHODS
    from studio_operator.crd import FEEDBACK_METHODS

    assert FEEDBACK_METHODS == STAGE_METHODS
    method = practice_crd()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"][
        "feedback"
    ]["properties"]["method"]
    assert (method["enum"], method["default"]) == (list(STAGE_METHODS), "auto")
