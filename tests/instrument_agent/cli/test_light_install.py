"""``amadeus[agent]`` alone runs the agent's commands: the whole agent CLI imported, and every
agent command's ``--help`` run, in a process where the studio extra's packages (TensorFlow, kfp,
mlflow, kubernetes, kopf, grpc health/reflection...) cannot be imported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from instrument_agent.priors import SHIPPED_PRIORS_DIR, list_priors

SCRIPT = Path(__file__).with_name("_light_install.py")
ROOT = Path(__file__).resolve().parents[3]

# What a musician runs: the client commands, the registrations and their old spelling, the agent.
AGENT_COMMANDS = {
    "priors list",
    "personalities list",
    "personalities show",
    "personalities verify",
    "personalities export",
    "play",
    "agent",
    "sync",
    "status",
    "studio add",
    "studio studios",
    "studio select",
    "studio remove",
    "studio list",
    "studio download",
    "studio perform",
    "studio practice",
    "studio watch",
    "studios add",
    "studios list",
    "studios select",
    "studios remove",
}


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> dict:
    env = {
        **os.environ,
        "AMADEUS_HOME": str(tmp_path_factory.mktemp("home")),
        "AMADEUS_PRIORS_DIR": "",  # the shipped priors
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        "COLUMNS": "200",
    }
    env.pop("AMADEUS_STUDIO", None)
    result = subprocess.run(
        [sys.executable, str(SCRIPT)], capture_output=True, text=True, env=env, timeout=300, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_every_agent_command_module_imports_without_the_studio_extra(report):
    assert report["modules"] == sorted(
        f"instrument_agent.cli.{name}"
        for name in ("agent", "personalities", "play", "priors", "studio", "studio_practice", "studios")
    )
    assert report["agent_attempts"] == []  # no agent module even tried a studio-only package
    assert report["studio_only_loaded"] == []


def test_every_agent_command_answers_help(report):
    assert AGENT_COMMANDS <= set(report["commands"])
    assert {path: code for path, code in report["help"].items() if code != 0} == {}


def test_the_studio_group_has_only_the_client_commands(report):
    client = ["account", "add", "download", "list", "perform", "practice", "promote", "remove", "rollback", "select"]
    client += ["studios", "watch"]
    assert report["studio_commands"] == client  # no serve / token: they come with the studio extra
    shown = report["studio_help"]
    assert shown["code"] == 0 and all(f"│ {command} " in shown["out"] for command in client)
    assert shown["err"] == ""  # the studio plugin's missing extra is not reported on every command


def test_client_commands_run(report):
    runs = report["runs"]
    assert runs["personalities list"]["code"] == 0
    shipped = runs["priors list"]
    assert shipped["code"] == 0, shipped
    assert all(prior.name in shipped["out"] for prior in list_priors(SHIPPED_PRIORS_DIR))
    assert list_priors(SHIPPED_PRIORS_DIR) or "no priors in" in shipped["out"]
    assert "No studios registered" in runs["studio studios"]["out"]
    # Through the light gRPC client to a port nothing listens on: one line, exit 2.
    for argv in ("studio list --studio 127.0.0.1:1", next(k for k in runs if k.startswith("studio practice"))):
        assert runs[argv]["code"] == 2, runs[argv]
        assert runs[argv]["err"].startswith("error: studio: UNAVAILABLE")
        assert len(runs[argv]["err"].strip().splitlines()) == 1
