"""Marked regions of a performance: ``--good 1.0-2.5 --bad 4.0-5.0``."""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["FeedbackRegionError", "Region", "parse_region", "regions_from_json"]

_SPAN = re.compile(r"^\s*(\d+(?:\.\d*)?)\s*-\s*(\d+(?:\.\d*)?)\s*$")


class FeedbackRegionError(ValueError):
    """A feedback region is malformed, empty, outside the performance, or the set lacks a liked region."""


@dataclass(frozen=True)
class Region:
    """``[start, end)`` seconds of the performance, liked (``good``) or disliked (``bad``)."""

    start: float
    end: float
    label: str

    def to_dict(self) -> dict:
        return {"start": self.start, "end": self.end, "label": self.label}


def parse_region(text: str, label: str) -> Region:
    """``"1.0-2.5"`` → ``Region(1.0, 2.5, label)``; raises :class:`FeedbackRegionError` naming the text."""
    match = _SPAN.match(text)
    if not match:
        raise FeedbackRegionError(f"--{label} {text!r}: expected START-END in seconds, e.g. 1.0-2.5")
    start, end = float(match.group(1)), float(match.group(2))
    if end <= start:
        raise FeedbackRegionError(f"--{label} {text!r}: the end must come after the start")
    return Region(start, end, label)


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
