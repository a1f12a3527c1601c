"""Feedback on a performance: the ama marks liked and disliked regions; the personality moves so it
sounds more like the liked regions and less like the disliked ones (design: docs/practice.md).

Two methods, and the choice between them:

* :func:`judge` — the ``knobs``: the playerProfile knobs optimised through the differentiable
  synthesizer (no training);
* :func:`fine_tune` — the ``finetune``: the decoder trained a little on the marked regions
  (liked as targets, a hinge away from the disliked, an anchor to the parent's weights);
* :func:`choose_method` — ``auto``: the knobs unless the liked/disliked harmonic-envelope
  difference leaves more than a tilt and a gain can express (:func:`knob_residual`).

Also :func:`read_performance` (the curves both methods read), :func:`measure` (brightness, HNR,
level), :func:`optimise_knobs`, :func:`parse_region`. The feedback stage
(:func:`pipelines.stages.feedback`) publishes the result. TensorFlow loads only when a
judgement, fine-tune or measurement runs.
"""

from .choose import (
    FEEDBACK_METHODS,
    RESIDUAL_THRESHOLD_DB,
    FeedbackMethodError,
    MethodChoice,
    check_method,
    choose_method,
)
from .descriptors import DESCRIPTOR_NAMES, measure, spectral_centroid_hz
from .envelope import EnvelopeResidual, harmonic_envelope, knob_residual
from .finetune import FeedbackObjective, FineTuneResult, FineTuneSettings, fine_tune, region_examples
from .judge import Judgement, judge
from .optimise import KNOBS, OptimiseResult, RegionControls, optimise_knobs
from .performance import Performance, PerformanceReadError, read_performance
from .regions import FeedbackRegionError, Region, check_regions, parse_region, regions_from_json

__all__ = [
    "DESCRIPTOR_NAMES",
    "FEEDBACK_METHODS",
    "KNOBS",
    "RESIDUAL_THRESHOLD_DB",
    "EnvelopeResidual",
    "FeedbackMethodError",
    "FeedbackObjective",
    "FeedbackRegionError",
    "FineTuneResult",
    "FineTuneSettings",
    "Judgement",
    "MethodChoice",
    "OptimiseResult",
    "Performance",
    "PerformanceReadError",
    "Region",
    "RegionControls",
    "check_method",
    "check_regions",
    "choose_method",
    "fine_tune",
    "harmonic_envelope",
    "judge",
    "knob_residual",
    "measure",
    "optimise_knobs",
    "parse_region",
    "read_performance",
    "region_examples",
    "regions_from_json",
    "spectral_centroid_hz",
]
