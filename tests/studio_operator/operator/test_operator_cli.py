"""``amadeus operator run``: argument checks and a clear error without a cluster."""

from __future__ import annotations

import typer
from typer.testing import CliRunner

from studio_operator.operator.cli import register


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.command()
    def version() -> None:  # a second command keeps `operator` a group
        pass

    return app


def test_run_needs_a_namespace_or_all_namespaces():
    result = CliRunner().invoke(_app(), ["operator", "run"])
    assert result.exit_code == 2
    assert "--namespace" in result.output


def test_run_with_an_unreadable_kubeconfig_fails_clearly(tmp_path):
    bad = tmp_path / "kubeconfig"
    bad.write_text("not: [a kubeconfig")
    result = CliRunner().invoke(_app(), ["operator", "run", "--kubeconfig", str(bad), "-n", "studio"])
    assert result.exit_code == 1
    assert "cannot log in to Kubernetes" in result.output


def test_a_bad_backend_setting_is_named(monkeypatch):
    monkeypatch.setenv("AMADEUS_BACKEND", "argo")
    result = CliRunner().invoke(_app(), ["operator", "run", "-n", "studio"])
    assert result.exit_code == 2
    assert "AMADEUS_BACKEND='argo'" in result.output
