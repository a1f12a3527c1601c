"""Running a practice pipeline on this machine through ``kfp.local``.

The same pipeline definition a cluster runs (:func:`build_pipeline`),
executed by ``kfp.local.SubprocessRunner(use_venv=False)``: every component
runs as a subprocess of this Python with the installed packages; artifacts
go under ``pipeline_root``.
"""

from __future__ import annotations

import os
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

from .definitions import PIPELINE_PARAMETERS, build_pipeline

__all__ = ["LocalRunError", "run_local"]


class LocalRunError(RuntimeError):
    """A step of a kfp.local run failed; the message names the pipeline and the step's error."""


def run_local(practice_type: str, *, pipeline_root: str | Path | None = None, **params: Any) -> dict[str, Any]:
    """Execute one practice pipeline with kfp.local; returns ``{"version", "seconds", "pipeline_root"}``.

    Args:
        practice_type: imitation | tuning | feedback.
        pipeline_root: where kfp.local keeps the artifacts (default: a new temporary folder).
        params: pipeline parameters (:data:`PIPELINE_PARAMETERS`); ``deu`` is required.

    Raises:
        LocalRunError when a step fails (the step's own error is in the message and the log).
    """
    from kfp import local

    unknown = sorted(set(params) - set(PIPELINE_PARAMETERS))
    if unknown:
        raise TypeError(f"unknown pipeline parameter(s) {', '.join(unknown)} (known: {', '.join(PIPELINE_PARAMETERS)})")
    root = Path(pipeline_root) if pipeline_root else Path(tempfile.mkdtemp(prefix="amadeus-kfp-local-"))
    root.mkdir(parents=True, exist_ok=True)
    # The components import `pipelines`: make the checkout importable in the subprocesses.
    repo = str(Path(__file__).resolve().parents[2])
    if repo not in os.environ.get("PYTHONPATH", "").split(os.pathsep):
        os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (repo, os.environ.get("PYTHONPATH", "")) if p)
    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(root), raise_on_error=True)
    pipeline = build_pipeline(practice_type)
    started = time.perf_counter()
    try:
        with warnings.catch_warnings():
            # kfp.local warns that a custom base image runs in this Python: that is the point here.
            warnings.filterwarnings(
                "ignore", message="You may be attemping to run a task that uses custom", category=RuntimeWarning
            )
            result = pipeline(**params)
    except RuntimeError as exc:
        raise LocalRunError(f"amadeus-{practice_type} on kfp.local failed: {exc}") from exc
    version = result.output if result is not None and getattr(result, "outputs", None) else None
    return {"version": version, "seconds": time.perf_counter() - started, "pipeline_root": str(root)}
