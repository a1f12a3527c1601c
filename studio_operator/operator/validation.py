"""Validate a Practice object against the CRD's own schema, as the API server would.

Two layers, both read from :func:`studio_operator.crd.practice_crd`:

1. the structural ``openAPIV3Schema`` (types, enums, patterns, ranges,
   required fields) with strict field validation (``kubectl apply``'s default
   since Kubernetes 1.27): unknown fields are errors, not silently pruned;
2. the CEL rules (``x-kubernetes-validations``), evaluated with ``cel-python``
   (``self`` bound to the node; transition rules that use ``oldSelf`` are
   evaluated only when an old object is given, as on an update).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from typing import Any

import jsonschema

from studio_operator.crd import practice_crd

__all__ = ["InvalidPracticeError", "practice_errors", "validate_practice"]


class InvalidPracticeError(ValueError):
    """A Practice the API server would reject; ``errors`` lists ``"field.path: problem"``."""

    def __init__(self, name: str, errors: list[str]):
        self.name = name
        self.errors = list(errors)
        super().__init__(f"Practice {name!r} is invalid: " + "; ".join(self.errors))


def _strict(schema: dict[str, Any]) -> dict[str, Any]:
    """Close every object that lists ``properties`` (strict field validation)."""
    out = copy.deepcopy(schema)

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "object" and "properties" in node and "additionalProperties" not in node:
                if not node.get("x-kubernetes-preserve-unknown-fields"):
                    node["additionalProperties"] = False
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(out)
    out["properties"]["metadata"] = {"type": "object"}
    return out


_SCHEMA = practice_crd()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
_VALIDATOR = jsonschema.Draft202012Validator(_strict(_SCHEMA), format_checker=jsonschema.FormatChecker())


def _path(parts) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "<root>"


def _cel_nodes(schema: Mapping[str, Any], value: Any, old: Any, path: tuple) -> Iterator[tuple[tuple, dict, Any, Any]]:
    """Every (path, rule, value, old value) the CEL rules apply to."""
    for rule in schema.get("x-kubernetes-validations", ()):
        yield path, rule, value, old
    if isinstance(value, dict):
        for key, sub in schema.get("properties", {}).items():
            if key in value:
                old_sub = old.get(key) if isinstance(old, dict) else None
                yield from _cel_nodes(sub, value[key], old_sub, (*path, key))
    elif isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            yield from _cel_nodes(schema["items"], item, None, (*path, index))


_PROGRAMS: dict[str, Any] = {}


def _program(rule: str):
    """The compiled CEL program of ``rule`` (compiled once per process)."""
    import celpy  # cel-python

    if rule not in _PROGRAMS:
        env = celpy.Environment()
        _PROGRAMS[rule] = env.program(env.compile(rule))
    return _PROGRAMS[rule]


def _cel_errors(obj: Mapping[str, Any], old: Mapping[str, Any] | None) -> list[str]:
    import celpy  # cel-python

    errors = []
    for path, rule, value, old_value in _cel_nodes(_SCHEMA, obj, old, ()):
        uses_old = "oldSelf" in rule["rule"]
        if uses_old and old_value is None:
            continue  # a transition rule: checked on updates only
        activation = {"self": celpy.json_to_cel(value)}
        if uses_old:
            activation["oldSelf"] = celpy.json_to_cel(old_value)
        try:
            result = _program(rule["rule"]).evaluate(activation)
        except celpy.CELEvalError as exc:  # pragma: no cover - a broken rule is a bug in crd.py
            errors.append(f"{_path(path)}: rule {rule['rule']!r} failed to evaluate ({exc})")
            continue
        if not bool(result):
            errors.append(f"{_path(path)}: {rule.get('message', rule['rule'])}")
    return errors


def practice_errors(obj: Mapping[str, Any], old: Mapping[str, Any] | None = None) -> list[str]:
    """Every reason the API server would reject ``obj`` (empty when valid)."""
    errors = [
        f"{_path(error.absolute_path)}: {error.message}"
        for error in sorted(_VALIDATOR.iter_errors(obj), key=lambda e: list(map(str, e.absolute_path)))
    ]
    if errors:
        return errors  # CEL rules assume a structurally valid object, like the API server's
    return _cel_errors(obj, old)


def validate_practice(obj: Mapping[str, Any], old: Mapping[str, Any] | None = None) -> None:
    """Raise :class:`InvalidPracticeError` when ``obj`` would be rejected."""
    errors = practice_errors(obj, old)
    if errors:
        raise InvalidPracticeError(str(obj.get("metadata", {}).get("name", "?")), errors)
