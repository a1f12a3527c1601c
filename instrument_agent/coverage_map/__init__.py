"""The practice coverage map: where a personality's training audio lies in pitch × loudness.

Shared by the pipelines (which compute it from the training features and store it in the
manifest's ``coverage``) and the agent (which draws it, summarises it, and warns when a
performance goes outside it). Numpy only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .drawing import CELL_HEIGHT, CELL_WIDTH, coverage_image, pitch_window, write_coverage_png
from .grid import (
    LOUDNESS_BINS,
    LOUDNESS_LOW_DB,
    LOUDNESS_STEP_DB,
    PITCH_BINS,
    VOICED_CONFIDENCE,
    CoverageGridError,
    CoverageMap,
)
from .notes import note_name
from .region import MIN_SECONDS, PractisedRegion, practised_region
from .summary import CoverageSummary, summarize
from .watch import KINDS, PHRASE_GAP_S, CoverageWarning, CoverageWatch

__all__ = [
    "CELL_HEIGHT",
    "CELL_WIDTH",
    "KINDS",
    "LOUDNESS_BINS",
    "LOUDNESS_LOW_DB",
    "LOUDNESS_STEP_DB",
    "MIN_SECONDS",
    "PHRASE_GAP_S",
    "PITCH_BINS",
    "VOICED_CONFIDENCE",
    "CoverageGridError",
    "CoverageMap",
    "CoverageSummary",
    "CoverageWarning",
    "CoverageWatch",
    "PractisedRegion",
    "bundle_coverage",
    "bundle_summary",
    "coverage_image",
    "note_name",
    "pitch_window",
    "practised_region",
    "summarize",
    "write_coverage_png",
]


if TYPE_CHECKING:
    from instrument_agent.personality import Bundle


def bundle_coverage(bundle: Bundle) -> CoverageMap | None:
    """The coverage map in a personality bundle's manifest (None: made before coverage maps)."""
    return CoverageMap.from_proto(bundle.manifest.coverage, source=f"{bundle.deu} v{bundle.version}")


def bundle_summary(bundle: Bundle) -> CoverageSummary:
    """:func:`summarize` of the bundle's map, its loudness anchored as the engine anchors velocity
    (:func:`~instrument_agent.midi.mapping.reference_db_of` of its feature stats and velocity range)."""
    from instrument_agent.midi.mapping import reference_db_of
    from instrument_agent.profiles import resolve_player_profile

    velocity_db_range = resolve_player_profile(bundle.manifest.player_profile).mpe.velocity_db_range
    return summarize(
        bundle_coverage(bundle),
        reference_db=reference_db_of(bundle.manifest.feature_stats, velocity_db_range),
        velocity_db_range=velocity_db_range,
    )
