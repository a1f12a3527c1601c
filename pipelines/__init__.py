"""Amadeus pipelines: the TensorFlow DDSP core, practice stages, training,
export, KFP pipeline definitions and the personality registry.

Heavy dependencies (TensorFlow, kfp, mlflow) are imported by submodules only.
"""

__all__: list[str] = []
