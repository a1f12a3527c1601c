"""Two tiny family priors (reeds, bowed-strings) built from FluidR3_GM renders, and ama audio
of one clarinet and one violin phrase rendered with other seeds (notes the priors never heard)."""

from __future__ import annotations

from pathlib import Path

from pipelines.practice import Publisher
from pipelines.priors import Family, build_prior, family, render_family

TINY = {
    "hidden_size": 32,
    "gru_units": 32,
    "n_harmonics": 20,
    "n_noise_bands": 16,
    "example_seconds": 1.0,
    "batch_size": 4,
    "f0_method": "yin",
    "checkpoint_every": 5,
    "preview_every": -1,
}
"""A small learnerProfile for 2 shared CPU cores; a deu with these sizes can start from the tiny priors."""

FAMILIES = ("reeds", "bowed-strings")


def build_tiny_priors(root: Path) -> Path:
    """Build the two priors (4 s per GM instrument, 10 steps) into ``root/priors``; returns that directory."""
    priors = root / "priors"
    for name in FAMILIES:
        build_prior(
            name,
            priors,
            seconds_per_instrument=4.0,
            learner_profile={**TINY, "steps": 10},
            work_dir=root / "work",
            publisher=Publisher.local(root / "home"),
            progress=False,
        )
    return priors


def ama_audio(root: Path, family_name: str, seconds: float = 6.0) -> Path:
    """A phrase of the family's first instrument (Clarinet, Violin), seeded unlike the prior's."""
    instrument = family(family_name).instruments[0]
    (rendered,) = render_family(Family(f"ama-{family_name}", (instrument,), seed=999), root / "ama" / family_name,
                                seconds_per_instrument=seconds)  # fmt: skip
    return Path(rendered["wav"])
