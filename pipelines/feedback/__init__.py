"""Feedback on a performance: the ama marks liked and disliked regions; the playerProfile
knobs move, through the differentiable synthesizer, so the personality sounds more like the
liked regions and less like the disliked ones (design: docs/practice.md).

* :func:`judge` — the knobs a judged performance asks for (the feedback stage,
  :func:`pipelines.stages.feedback`, publishes them as a new version);
* :func:`measure` — the spectral descriptors (brightness, HNR, level);
* :func:`optimise_knobs` — the optimisation on its own;
* :func:`parse_region` — ``"1.0-2.5"`` → :class:`Region`.

TensorFlow loads only when a judgement or measurement runs.
"""

from .descriptors import DESCRIPTOR_NAMES, measure, spectral_centroid_hz
from .judge import Judgement, PerformanceReadError, judge
from .optimise import KNOBS, OptimiseResult, RegionControls, optimise_knobs
from .regions import FeedbackRegionError, Region, check_regions, parse_region, regions_from_json

__all__ = [
    "DESCRIPTOR_NAMES",
    "KNOBS",
    "FeedbackRegionError",
    "Judgement",
    "OptimiseResult",
    "PerformanceReadError",
    "Region",
    "RegionControls",
    "check_regions",
    "judge",
    "measure",
    "optimise_knobs",
    "parse_region",
    "regions_from_json",
    "spectral_centroid_hz",
]
