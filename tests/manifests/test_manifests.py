"""manifests/: equal to what the chart and the CRD source generate; examples valid against the CRD."""

from __future__ import annotations

from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from studio_operator.operator.manifests import expected_files, repo_root
from studio_operator.operator.validation import practice_errors

MANIFESTS = repo_root() / "manifests"
EXAMPLES = sorted((MANIFESTS / "examples").glob("*.yaml"))


def test_generated_manifests_equal_the_chart_render_and_the_crd_source():
    stale = [
        str(path.relative_to(repo_root())) for path, content in expected_files().items() if path.read_text() != content
    ]
    assert stale == [], "run: python -m studio_operator.operator.manifests"


def test_rbac_and_crd_manifests_are_valid_kubernetes():
    for name in ("crd.yaml", "rbac.yaml"):
        for obj in yaml.safe_load_all((MANIFESTS / name).read_text()):
            if obj:
                kubernetes_validate.validate(obj, "1.30.0", strict=True)


def test_there_is_an_example_of_every_practice_type_and_backend():
    specs = [yaml.safe_load(p.read_text())["spec"] for p in EXAMPLES]
    assert {s["type"] for s in specs} == {"imitation", "tuning", "feedback"}
    assert {s.get("backend", "kfp") for s in specs} == {"kfp", "job"}


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_examples_are_valid_practices(path: Path):
    assert practice_errors(yaml.safe_load(path.read_text())) == []
