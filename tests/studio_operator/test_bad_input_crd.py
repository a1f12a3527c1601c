"""The bad-input sweep at the Practice CRD: generated Practice objects, each breaking one thing
the CRD's openAPIV3Schema or its CEL rules forbid (a value out of range, of the wrong type, off
its enum or pattern, an unknown field, too many items, a missing field, a CEL rule). Each is
rejected, as the API server would, with an error that starts with the offending field's path;
validate_practice raises InvalidPracticeError naming the Practice."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
from _bad_input import SWEEP, count
from hypothesis import given, settings
from hypothesis import strategies as st

from studio_operator.crd import practice_crd
from studio_operator.operator.validation import InvalidPracticeError, practice_errors, validate_practice

pytestmark = [
    pytest.mark.bad_input,
    # cel-python's parser raises the recursion limit on its first use; hypothesis notes it, harmlessly.
    pytest.mark.filterwarnings("ignore:The recursion limit will not be reset"),
]

_SPEC = practice_crd()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]


def _leaves(schema: dict[str, Any], path: tuple = ()) -> list[tuple[tuple, dict[str, Any]]]:
    """Every (path, schema) below ``schema``: objects, their fields, and arrays' first item."""
    out = [(path, schema)]
    for key, sub in schema.get("properties", {}).items():
        out += _leaves(sub, (*path, key))
    if schema.get("type") == "array" and "items" in schema:
        out += _leaves(schema["items"], (*path, 0))
    return out


LEAVES = [(p, s) for p, s in _leaves(_SPEC) if p]


def _text(path: tuple) -> str:
    return "spec" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)


def _valid() -> dict[str, Any]:
    return {
        "apiVersion": "amadeus.dev/v1alpha1",
        "kind": "Practice",
        "metadata": {"name": "p", "namespace": "n"},
        "spec": {"deu": "cello", "type": "tuning", "playerProfile": {"gainDb": -3.0}},
    }


def _put(obj: dict[str, Any], path: tuple, value: Any) -> None:
    node: Any = obj["spec"]
    for here, nxt in zip(path, path[1:], strict=False):
        if isinstance(node, list):
            while len(node) <= here:
                node.append({} if not isinstance(nxt, int) else [])
            node = node[here]
        else:
            node = node.setdefault(here, [] if isinstance(nxt, int) else {})
    if isinstance(node, list):
        node[:] = [value]
    else:
        node[path[-1]] = value


@st.composite
def bad_values(draw: st.DrawFn, schema: dict[str, Any]) -> Any:
    """A value ``schema`` rejects."""
    kind, options = schema.get("type"), []
    if kind in ("integer", "number"):
        if "minimum" in schema:
            options.append(schema["minimum"] - draw(st.integers(1, 10**6)))
        if "maximum" in schema:
            options.append(schema["maximum"] + draw(st.integers(1, 10**6)))
        options += [draw(st.text(max_size=5)), draw(st.booleans())]
        if kind == "integer":
            options.append(draw(st.floats(0.01, 0.99)))
    elif kind == "boolean":
        options += [draw(st.text(max_size=5)), draw(st.integers())]
    elif kind == "string":
        options.append(draw(st.integers()))
        if "enum" in schema:
            options.append(draw(st.text(max_size=12).filter(lambda s: s not in schema["enum"])))
        if "pattern" in schema:
            options.append(draw(st.text(max_size=20).filter(lambda s: not re.search(schema["pattern"], s))))
        if "maxLength" in schema:
            options.append("a" * (schema["maxLength"] + draw(st.integers(1, 50))))
    elif kind == "array":
        options.append(draw(st.text(max_size=5)))
        if "maxItems" in schema and schema.get("items", {}).get("type") == "integer":
            options.append([schema["items"].get("minimum", 0)] * (schema["maxItems"] + 1))
    elif kind == "object":
        options += [draw(st.integers()), draw(st.text(max_size=5))]
    return draw(st.sampled_from(options)) if options else draw(st.integers())


@settings(SWEEP, max_examples=80)
@given(data=st.data(), leaf=st.sampled_from(LEAVES))
def test_a_practice_with_one_bad_field(data, leaf):
    count("Practice CRD (schema)")
    path, schema = leaf
    obj = _valid()
    unknown = schema.get("type") == "object" and "properties" in schema and data.draw(st.booleans())
    if unknown:  # strict field validation: an unknown field is an error, not silently dropped
        name = data.draw(st.from_regex(r"\A[a-z][a-zA-Z]{0,12}\Z").filter(lambda k: k not in schema["properties"]))
        _put(obj, (*path, name), 1)
    else:
        _put(obj, path, data.draw(bad_values(schema)))
    errors = practice_errors(obj)
    assert errors, f"{_text(path)}: accepted {obj['spec']}"
    assert any(e.startswith(_text(path)) for e in errors), (_text(path), errors)
    if unknown:
        assert any(f"'{name}' was unexpected" in e for e in errors), errors
    with pytest.raises(InvalidPracticeError, match="Practice 'p' is invalid"):
        validate_practice(obj)


def _cel_cases(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    spec: dict[str, Any] = {"deu": draw(st.from_regex(r"\A[a-z][a-z0-9]{0,20}\Z"))}
    rule = draw(
        st.sampled_from(["imitation-audio", "feedback-regions", "feedback-elsewhere", "tuning", "region", "toleration"])
    )
    start = draw(st.floats(0, 1000))
    if rule == "imitation-audio":
        spec.update(type="imitation", **draw(st.sampled_from([{}, {"audio": []}])))
        return spec, "spec: an imitation practice needs audio"
    if rule == "feedback-regions":
        return {**spec, "type": "feedback"}, "spec: a feedback practice needs feedback.regions"
    regions = [
        {"start": start, "end": start + draw(st.floats(0.01, 100)), "label": draw(st.sampled_from(["good", "bad"]))}
    ]
    if rule == "feedback-elsewhere":
        spec.update(type=draw(st.sampled_from(["imitation", "tuning"])), audio=["/a.wav"], playerProfile={"gainDb": 1})
        spec["feedback"] = {"performance": "/p.wav", "regions": regions}
        return spec, "spec: feedback is only allowed on a feedback practice"
    if rule == "tuning":
        return {**spec, "type": "tuning"}, "spec: a tuning practice needs a learnerProfile or a playerProfile"
    if rule == "region":
        regions.append({"start": start, "end": start - draw(st.floats(0, start)), "label": "bad"})
        spec.update(type="feedback", feedback={"performance": "/p.wav", "regions": regions})
        return spec, "spec.feedback.regions[1]: a region's end must be after its start"
    toleration = {"key": "gpu", "operator": "Exists", "value": draw(st.from_regex(r"\A[a-z]{1,8}\Z"))}
    spec.update(type="imitation", audio=["s3://b/a.wav"], resources={"tolerations": [toleration]})
    return spec, "spec.resources.tolerations[0]: a toleration with operator Exists must not have a value"


@settings(SWEEP, max_examples=40)
@given(data=st.data())
def test_a_practice_breaking_a_cel_rule(data):
    count("Practice CRD (CEL rules)")
    spec, expected = _cel_cases(data.draw)
    obj = copy.deepcopy(_valid())
    obj["spec"] = spec
    errors = practice_errors(obj)
    assert any(e.startswith(expected) for e in errors), (expected, errors)
    with pytest.raises(InvalidPracticeError, match="Practice 'p' is invalid"):
        validate_practice(obj)
