"""Run as a script: the agent's CLI as ``pip install amadeus[agent]`` has it, i.e. with every
package only the studio extra brings made uninstallable (a ``sys.meta_path`` finder raises
ModuleNotFoundError for them and records who asked). Prints one JSON report on stdout."""

from __future__ import annotations

import contextlib
import importlib.abc
import io
import json
import sys
import traceback
from pathlib import Path

# Import names of the packages the ``studio`` extra (pyproject.toml) adds to ``agent``: not pydantic
# (typer needs it) nor tqdm (ai-edge-litert needs it).
STUDIO_ONLY = {
    "celpy",
    "grpc_health",
    "grpc_reflection",
    "grpc_tools",
    "jsonschema",
    "kfp",
    "kopf",
    "kubernetes",
    "librosa",
    "minio",
    "mlflow",
    "prometheus_client",
    "tensorflow",
    "tensorflow_serving",
}
PROJECT_ROOT = Path(__file__).resolve().parents[3]
attempts: list[list[str]] = []


class NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] not in STUDIO_ONLY:
            return None
        importer = "?"
        for frame in reversed(traceback.extract_stack()[:-1]):
            if not frame.filename.startswith("<frozen") and "/importlib/" not in frame.filename:
                importer = frame.filename
                break
        attempts.append([name, importer])
        raise ModuleNotFoundError(f"No module named {name!r} (amadeus[agent] has no studio extra)", name=name)


sys.meta_path.insert(0, NotInstalled())

import typer  # noqa: E402

from instrument_agent.cli.app import AGENT_COMMANDS, app, build_app, main  # noqa: E402


def command_paths(command, prefix=()):
    """Every command of a click tree (hidden ones too), as argument lists."""
    children = getattr(command, "commands", None)
    if children is None:
        yield list(prefix)
        return
    for name, child in children.items():
        yield from command_paths(child, (*prefix, name))


def run(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return {"code": code, "out": out.getvalue(), "err": err.getvalue()}


agent_only = typer.main.get_command(build_app(plugins=False))
paths = list(command_paths(agent_only))
report = {
    "modules": sorted(module.__name__ for module in AGENT_COMMANDS),
    "commands": [" ".join(path) for path in paths],
    "help": {" ".join(path): run([*path, "--help"])["code"] for path in paths},
    "studio_help": run(["studio", "--help"]),
    "studio_commands": sorted(typer.main.get_command(app).commands["studio"].commands),
    "runs": {
        " ".join(argv): run(argv)
        for argv in (
            ["personalities", "list"],
            ["priors", "list"],
            ["studio", "studios"],
            ["studio", "list", "--studio", "127.0.0.1:1"],
            ["studio", "practice", "cello", "--type", "tuning", "--player", "gain_db=-6", "--studio", "127.0.0.1:1"],
        )
    },
    "agent_attempts": [a for a in attempts if a[1].startswith(str(PROJECT_ROOT / "instrument_agent"))],
    "studio_only_loaded": sorted(name for name in sys.modules if name.partition(".")[0] in STUDIO_ONLY),
}
print(json.dumps(report))
