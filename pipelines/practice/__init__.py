"""Practising a deu: one entry point, one graph walker, one publisher.

* :func:`run_practice` — ``run_practice(kind, request, home)``: an imitation, tuning or
  feedback practice (:class:`PracticeRequest`) walked in-process and published; returns a
  :class:`PracticeResult` (version, digest, metrics). The CLI, the operator's Job (the same
  CLI command line) and the studio's embedded runner call it.
* :class:`Publisher` — where a new version goes (the local store, an S3 registry, MLflow),
  for every runner, the KFP steps included.
* :func:`execute_graph` / :func:`run_graph_in_process` — the embedded runner: a practice's
  graph (:mod:`pipelines.stages.graph`) walked with the in-process bindings
  (:class:`InProcessSteps`), resumable through ``<step>.done.json`` markers.

Only the standard library, protobuf and the agent's store load at import time; TensorFlow
loads when a stage runs.
"""

from .bindings import InProcessSteps
from .embedded import execute_graph, practice_workdir, run_graph_in_process
from .publisher import Publisher, Session
from .request import NothingToTuneError, PracticeRequest, PracticeResult
from .run import run_practice

__all__ = [
    "InProcessSteps",
    "NothingToTuneError",
    "PracticeRequest",
    "PracticeResult",
    "Publisher",
    "Session",
    "execute_graph",
    "practice_workdir",
    "run_graph_in_process",
    "run_practice",
]
