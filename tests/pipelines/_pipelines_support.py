"""Helpers for the pipelines tests (and ``tests/benchmarks/bench_pipelines.py``): the learnerProfile of a
tiny practice and a synthetic recording to practise on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import soundfile

from pipelines.demo.score import practice_score
from pipelines.demo.voice import bowed_string


def tiny_learner_profile(**changes: Any) -> dict[str, Any]:
    """A learnerProfile (proto field names → values) that trains in seconds: 3 steps of a 32-unit decoder
    (20 harmonics, 17 noise bands, no reverb) on batches of 2 one-second examples, yin pitch, a fifth held
    out, no checkpoint before the end. ``changes`` replace or add fields."""
    return {
        "steps": 3,
        "hidden_size": 32,
        "gru_units": 32,
        "n_harmonics": 20,
        "n_noise_bands": 17,
        "example_seconds": 1.0,
        "batch_size": 2,
        "reverb": False,
        "f0_method": "yin",
        "holdout_fraction": 0.2,
        "checkpoint_every": 100,
        **changes,
    }


def write_bowed_string(path: Path, seconds: float, *, sample_rate: int, seed: int) -> Path:
    """``seconds`` of the demo's synthetic bowed string (a practice score played at ``sample_rate`` Hz, both
    drawn from ``seed``) written to ``path`` (the format from its suffix); returns ``path``."""
    soundfile.write(str(path), bowed_string(practice_score(seconds, seed=seed), sample_rate, seed=seed), sample_rate)
    return path
