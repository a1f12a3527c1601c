"""The feedback practice: the ama marks liked and disliked regions of a
performance; the playerProfile knobs move, through the differentiable
synthesizer, so the personality sounds more like the liked regions and less
like the disliked ones (design: docs/practice.md).

* :func:`run_feedback` — the whole practice, publishing a new version;
* :func:`measure` — the spectral descriptors (brightness, HNR, level);
* :func:`optimise_knobs` — the optimisation on its own;
* :func:`parse_region` — ``"1.0-2.5"`` → :class:`Region`.

TensorFlow loads only when a practice or measurement runs.
"""

from .descriptors import DESCRIPTOR_NAMES, measure, spectral_centroid_hz
from .optimise import KNOBS, OptimiseResult, RegionControls, optimise_knobs
from .practice import FeedbackResult, PerformanceReadError, run_feedback
from .regions import FeedbackRegionError, Region, check_regions, parse_region, regions_from_json

__all__ = [
    "DESCRIPTOR_NAMES",
    "KNOBS",
    "FeedbackRegionError",
    "FeedbackResult",
    "OptimiseResult",
    "PerformanceReadError",
    "Region",
    "RegionControls",
    "check_regions",
    "measure",
    "optimise_knobs",
    "parse_region",
    "regions_from_json",
    "run_feedback",
    "spectral_centroid_hz",
]
