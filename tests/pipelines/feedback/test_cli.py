"""``amadeus practice feedback`` / ``tuning`` argument handling."""

from __future__ import annotations

import typer
from typer.testing import CliRunner

from pipelines.feedback.cli import register


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("noop")(lambda: None)
    register(app)
    return app


def test_malformed_region_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(
        _app(),
        ["practice", "feedback", "--deu", "viola", "--performance", str(tmp_path / "p.wav"), "--good", "1.0to2.0"],
    )
    assert result.exit_code == 2 and "expected START-END" in result.output


def test_tuning_changes_must_be_json(tmp_path):
    result = CliRunner().invoke(_app(), ["practice", "tuning", "--deu", "viola", "--player", "{tilt"])
    assert result.exit_code == 2 and "must be JSON objects" in result.output
