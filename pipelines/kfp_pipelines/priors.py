"""The priors pipeline (``amadeus-priors``): one training task per family, on the compute nodes.

Each ``build-prior`` task renders its family from FluidR3_GM, trains the prior as an imitation
practice of ``prior-<family>`` (published to the registry the parameters name, like any
personality) and returns the packed prior (card + float16 decoder) as a Model artifact. The
tasks are independent, so a cluster runs them in parallel (GPU nodes through :class:`Placement`);
kfp.local runs them one after another.

(No ``from __future__ import annotations``: KFP reads the annotations.)
"""

import os
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

from kfp import compiler, dsl
from kfp.dsl import Model, Output

from .components import DEFAULT_IMAGE
from .definitions import Placement

__all__ = ["build_priors_pipeline", "compile_priors_pipeline", "run_priors_local"]


def build_prior_component(
    family: str,
    seconds_per_instrument: float,
    learner_profile_json: str,
    registry_uri: str,
    mlflow_tracking_uri: str,
    prior: Output[Model],
) -> str:
    """Build one family's prior; the packed prior goes to ``prior``; returns its card as JSON."""
    import json
    import shutil
    import tempfile

    from pipelines.practice import Publisher
    from pipelines.priors import build_prior

    with tempfile.TemporaryDirectory(prefix="amadeus-prior-") as work:
        built = build_prior(
            family,
            f"{work}/priors",
            seconds_per_instrument=seconds_per_instrument,
            learner_profile=json.loads(learner_profile_json or "{}"),
            work_dir=f"{work}/build",
            publisher=Publisher.from_env(registry_uri, mlflow_tracking_uri),
            progress=False,
        )
        shutil.copytree(built.path, prior.path, dirs_exist_ok=True)
    prior.metadata["family"] = family
    prior.metadata["decoder_sha256"] = built.card["decoder_sha256"]
    return json.dumps(dict(built.card), sort_keys=True)


def build_priors_pipeline(families: Sequence[str], *, image: str | None = None, placement: Placement | None = None):
    """The ``@dsl.pipeline`` building ``families`` (one ``build-prior-<family>`` task each)."""
    from pipelines.priors import family as check_family

    for name in families:
        check_family(name)
    image = image or os.environ.get("AMADEUS_STUDIO_IMAGE") or DEFAULT_IMAGE
    component = dsl.component(build_prior_component, base_image=image, install_kfp_package=False)
    place = placement or Placement()

    @dsl.pipeline(name="amadeus-priors", description="Amadeus family priors from FluidR3_GM renders")
    def priors(
        seconds_per_instrument: float = 60.0,
        learner_profile_json: str = "{}",
        registry_uri: str = "",
        mlflow_tracking_uri: str = "",
    ):
        for name in families:
            task = component(
                family=name,
                seconds_per_instrument=seconds_per_instrument,
                learner_profile_json=learner_profile_json,
                registry_uri=registry_uri,
                mlflow_tracking_uri=mlflow_tracking_uri,
            ).set_display_name(f"build-prior-{name}")
            place.compute(task)

    return priors


def compile_priors_pipeline(
    package_path: str | Path,
    families: Sequence[str] | None = None,
    *,
    image: str | None = None,
    accelerator_type: str = "nvidia.com/gpu",
    accelerator_limit: int = 1,
) -> str:
    """Compile the priors pipeline (default: every family, one GPU per task) to KFP IR YAML."""
    from pipelines.priors import FAMILIES

    placement = Placement(accelerator_type=accelerator_type, accelerator_limit=int(accelerator_limit))
    pipeline = build_priors_pipeline(list(families or FAMILIES), image=image, placement=placement)
    Path(package_path).parent.mkdir(parents=True, exist_ok=True)
    compiler.Compiler().compile(pipeline, str(package_path))
    return str(package_path)


def run_priors_local(families: Sequence[str], *, pipeline_root: str | Path, **params) -> dict:
    """Execute the priors pipeline with kfp.local (subprocesses of this Python); returns
    ``{"seconds", "pipeline_root"}``. The packed priors are under ``pipeline_root``."""
    from kfp import local

    repo = str(Path(__file__).resolve().parents[2])
    if repo not in os.environ.get("PYTHONPATH", "").split(os.pathsep):
        os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (repo, os.environ.get("PYTHONPATH", "")) if p)
    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(pipeline_root), raise_on_error=True)
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="You may be attemping to run a task that uses custom")
        warnings.filterwarnings("ignore", message=".*have no effect in the current local runner")
        build_priors_pipeline(families)(**params)
    return {"seconds": time.perf_counter() - started, "pipeline_root": str(pipeline_root)}
