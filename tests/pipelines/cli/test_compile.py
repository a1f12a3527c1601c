"""``amadeus pipelines compile`` writes IR YAML with the asked placement."""

from __future__ import annotations

import typer
import yaml
from typer.testing import CliRunner

from pipelines.cli import register


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("noop")(lambda: None)
    register(app)
    return app


def test_compile_writes_yaml(tmp_path):
    out = tmp_path / "imitation.yaml"
    result = CliRunner().invoke(
        _app(),
        [
            "pipelines",
            "compile",
            "--type",
            "imitation",
            "-o",
            str(out),
            "--image",
            "img:2",
            "--gpus",
            "1",
            "--node-selector",
            "pool=gpu",
            "--toleration",
            "nvidia.com/gpu:NoSchedule",
        ],
    )
    assert result.exit_code == 0, result.output
    spec, platform = list(yaml.safe_load_all(out.read_text()))
    assert spec["pipelineInfo"]["name"] == "amadeus-imitation"
    train = platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]["exec-train"]
    assert train["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]


def test_bad_type_and_selector_are_clear_errors(tmp_path):
    result = CliRunner().invoke(_app(), ["pipelines", "compile", "--type", "jam", "-o", str(tmp_path / "x.yaml")])
    assert result.exit_code == 2 and "unknown practice type 'jam'" in result.output
    result = CliRunner().invoke(
        _app(), ["pipelines", "compile", "--type", "tuning", "-o", str(tmp_path / "x.yaml"), "--node-selector", "nope"]
    )
    assert result.exit_code == 2 and "expected KEY=VALUE" in result.output
