"""A KFP-double executor that really runs the submitted practice pipeline on this machine.

:func:`graph_executor` takes a run as the KFP API double received it (the
compiled IR ``kfp.Client`` uploaded and the run's parameters), checks that the
IR is the practice pipeline built from ``pipelines.stages.graph`` (the wiring
read back from the IR equals the graph's), fills the parameters the run did
not give with the IR's own defaults (as KFP does), and walks the same graph
in-process with the real stages (``pipelines.practice.run_graph_in_process``, publishing to
the store at ``home`` through ``pipelines.practice.Publisher.local``:
ingest → features → train → evaluate → push for an imitation). The push step
publishes a real version into the store at ``home``; the run ends SUCCEEDED,
or FAILED with the stage's error.

``pipelines.kfp_pipelines.run_local`` would execute the same graph through
``kfp.local`` (a subprocess and a TensorFlow start per step, 30-90 s for a tiny
imitation here); the in-process walk runs the same stage functions in a few
seconds, which keeps the end-to-end operator test short.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import yaml

__all__ = ["graph_executor"]


def _ir(run: dict[str, Any]) -> dict[str, Any]:
    spec = run["pipeline_spec"]
    return spec.get("pipeline_spec", spec)  # {pipeline_spec, platform_spec} when kfp-kubernetes settings exist


def graph_executor(home: Path, work_root: Path):
    """``executor(run) -> (state, message)`` publishing into the personality store at ``home``."""
    from pipelines.kfp_pipelines import compiled_wiring
    from pipelines.practice import Publisher, run_graph_in_process
    from pipelines.stages.graph import GRAPHS

    def execute(run: dict[str, Any]) -> tuple[str, str]:
        ir = _ir(run)
        practice_type = ir["pipelineInfo"]["name"].removeprefix("amadeus-")
        graph = GRAPHS[practice_type]
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as handle:
            yaml.safe_dump(ir, handle)
        try:
            wiring = compiled_wiring(handle.name)
        finally:
            Path(handle.name).unlink()
        if wiring != graph.wiring():
            return "FAILED", f"the submitted IR is not the {practice_type} graph: {wiring} != {graph.wiring()}"
        declared = ir["root"]["inputDefinitions"]["parameters"]
        params = {name: spec.get("defaultValue") for name, spec in declared.items()}
        params.update(run["runtime_config"].get("parameters") or {})
        workdir = Path(work_root) / run["run_id"]
        with Publisher.local(home).session() as session:
            run_graph_in_process(
                graph,
                params,
                session=session,
                workdir=workdir,
                resume=True,
                progress=False,
                cache_dir=Path(work_root) / "feature-cache",
                record_params={"kfp_run_id": run["run_id"]},
            )
        return "SUCCEEDED", ""

    return execute
