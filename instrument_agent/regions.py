"""Marked regions of a performance, as a musician types them: ``--good 1.0-2.5 --bad 4.0-5.0``.

The one parser of that syntax: the agent's ``amadeus studio practice --type feedback`` uses it,
and so can ``pipelines``' local ``amadeus practice feedback`` (the agent imports no pipelines,
so the light half owns it). Times are seconds from the start of the performance.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["LABELS", "FeedbackRegionError", "Region", "parse_region", "parse_regions"]

LABELS = ("good", "bad")

# START-END, both non-negative decimals (no exponent, no sign): "1-2.5", "0.5 - 3".
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
    """``"1.0-2.5"`` → ``Region(1.0, 2.5, label)``; raises :class:`FeedbackRegionError` naming the text.

    ``label`` is ``"good"`` or ``"bad"`` (also the flag the message names: ``--good`` / ``--bad``).
    """
    if label not in LABELS:
        raise FeedbackRegionError(f"region label {label!r}: expected 'good' or 'bad'")
    match = _SPAN.match(text)
    if not match:
        raise FeedbackRegionError(f"--{label} {text!r}: expected START-END in seconds, e.g. 1.0-2.5")
    start, end = float(match.group(1)), float(match.group(2))
    if end <= start:
        raise FeedbackRegionError(f"--{label} {text!r}: the end must come after the start")
    return Region(start, end, label)


def parse_regions(good: Iterable[str] = (), bad: Iterable[str] = ()) -> list[Region]:
    """Every ``--good`` then every ``--bad`` text as :class:`Region` s, in the order given."""
    return [parse_region(text, "good") for text in good] + [parse_region(text, "bad") for text in bad]
