"""Kubeflow Pipelines (KFP v2) definitions of the three practices.

* :func:`compile_practice_pipeline` — IR YAML for a cluster (``amadeus pipelines compile``);
* :func:`build_pipeline` — the ``@dsl.pipeline`` function (parameters in :mod:`.definitions`);
* :func:`run_local` — the same pipeline executed on this machine through ``kfp.local``;
* :func:`compiled_wiring` — the step wiring read back from compiled IR (compared with the graph).

The steps and their wiring are declared once in :mod:`pipelines.stages.graph`;
the embedded runner (:mod:`pipelines.practice`) walks the same graphs in-process.

Components (:mod:`.components`) are lightweight Python components whose
bodies call the shared stage functions (:mod:`pipelines.stages`) through
:mod:`._steps`. Names load lazily: a component's body imports
``pipelines.kfp_pipelines._steps`` while KFP's executor is still importing
``kfp.dsl``, so this package must not import kfp on its own.
"""

__all__ = [
    "PIPELINE_PARAMETERS",
    "PRACTICE_TYPES",
    "LocalRunError",
    "Placement",
    "UnknownPracticeTypeError",
    "build_pipeline",
    "compile_practice_pipeline",
    "compiled_wiring",
    "run_local",
]


def __getattr__(name: str):
    if name in ("LocalRunError", "run_local"):
        from . import local

        return getattr(local, name)
    if name in __all__:
        from . import definitions

        return getattr(definitions, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
