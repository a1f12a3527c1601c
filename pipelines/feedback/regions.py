"""Marked regions of a performance: ``--good 1.0-2.5 --bad 4.0-5.0``.

The syntax, :class:`Region` and its error are the agent's (:mod:`instrument_agent.regions`: the
light client parses the same flags for a studio practice); this module adds what the practice
checks against the performance itself.
"""

from __future__ import annotations

from instrument_agent.regions import FeedbackRegionError, Region, parse_region

__all__ = ["FeedbackRegionError", "Region", "check_regions", "parse_region", "regions_from_json"]


def regions_from_json(items: list[dict]) -> list[Region]:
    """Regions from the pipeline parameter ``feedback_regions_json`` (``[{"start", "end", "label"}]``)."""
    out = []
    for i, item in enumerate(items):
        try:
            region = Region(float(item["start"]), float(item["end"]), str(item["label"]).lower())
        except (KeyError, TypeError, ValueError):
            raise FeedbackRegionError(
                f"feedback region #{i} {item!r}: expected {{'start': s, 'end': s, 'label': 'good'|'bad'}}"
            ) from None
        if region.label not in ("good", "bad") or region.end <= region.start:
            raise FeedbackRegionError(f"feedback region #{i} {item!r}: label must be good or bad, end after start")
        out.append(region)
    return out


def check_regions(regions: list[Region], duration_s: float, min_seconds: float) -> None:
    """Every region inside the performance and at least ``min_seconds`` long; at least one good one."""
    if not any(r.label == "good" for r in regions):
        raise FeedbackRegionError("feedback needs at least one liked region (--good START-END)")
    for r in regions:
        if r.end > duration_s + 1e-6:
            raise FeedbackRegionError(
                f"--{r.label} {r.start:g}-{r.end:g}: the performance is only {duration_s:.2f} s long"
            )
        if r.end - r.start < min_seconds:
            raise FeedbackRegionError(
                f"--{r.label} {r.start:g}-{r.end:g}: shorter than {min_seconds:g} s, too short to measure"
            )
