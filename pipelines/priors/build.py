"""Building a family prior: render its instruments from FluidR3_GM, run an imitation practice
of the deu ``prior-<family>`` on them (so it is published to the registry like any
personality, checkpointed and resumable), and pack the decoder with its data card.

A prior's directory (:mod:`instrument_agent.priors.catalog`) holds ``card.json``, ``decoder.npz``
and ``reverb_ir.npy`` (float16: half the bytes; the trainer reads them back as float32).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from instrument_agent.priors import CARD_FILE, MODEL_SIZE_FIELDS, Prior, find_prior
from instrument_agent.profiles import merge_profile, resolve_learner_profile
from instrument_agent.proto import personality_pb2

from .families import SOUNDFONT, family
from .render import render_family

__all__ = ["PRIOR_PROFILE", "build_prior", "prior_deu"]

PRIOR_PROFILE: dict[str, Any] = {"example_seconds": 2.0, "steps": 400, "checkpoint_every": 50, "preview_every": -1}
"""The build's learnerProfile overrides: the model sizes stay the defaults, so a new deu with
the default learnerProfile can start from the prior."""


def prior_deu(name: str) -> str:
    """The deu a family's prior is published as in the registry."""
    return f"prior-{name}"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _pack(export_dir: Path, out_dir: Path) -> None:
    with np.load(export_dir / "decoder.npz", allow_pickle=False) as data:
        weights = {key: data[key].astype(np.float16) for key in data.files}
    np.savez_compressed(out_dir / "decoder.npz", **weights)
    ir = export_dir / "reverb_ir.npy"
    if ir.is_file():
        np.save(out_dir / "reverb_ir.npy", np.load(ir, allow_pickle=False).astype(np.float16))


def build_prior(
    name: str,
    out_root: str | Path,
    *,
    seconds_per_instrument: float = 60.0,
    learner_profile: Mapping[str, Any] | None = None,
    work_dir: str | Path,
    publisher=None,
    progress: bool = True,
) -> Prior:
    """Build the prior of family ``name`` into ``out_root/name`` (replacing an older one atomically).

    Args:
        name: a :data:`~.families.FAMILIES` name.
        out_root: the priors directory.
        seconds_per_instrument: rendered audio per GM program, s.
        learner_profile: overrides over :data:`PRIOR_PROFILE` (e.g. ``steps``); the model sizes
            are recorded in the card and must match a deu's learnerProfile to start from it.
        work_dir: renders live in ``work_dir/<name>/audio`` (reused on a rerun).
        publisher: where the practice publishes ``prior-<name>`` (default: the local store of ``$AMADEUS_HOME``).
        progress: the practice's rich progress output.

    Raises:
        UnknownFamilyError; SoundfontError (fluidsynth or FluidR3_GM missing); the practice's errors.
        KeyboardInterrupt leaves the practice resumable: the same call continues from its checkpoint.
    """
    from pipelines.practice import PracticeRequest, run_practice

    started = time.perf_counter()
    fam = family(name)
    overrides = {**PRIOR_PROFILE, **dict(learner_profile or {}), "prior": "none"}
    profile = resolve_learner_profile(merge_profile(personality_pb2.LearnerProfile(), overrides, source="prior build"))
    rendered = render_family(
        fam, Path(work_dir) / name / "audio", seconds_per_instrument=seconds_per_instrument,
        sample_rate=profile.sample_rate,
    )  # fmt: skip
    request = PracticeRequest(
        prior_deu(name), audio=[r["wav"] for r in rendered], learner_profile=profile, new=True, progress=progress
    )
    result = run_practice("imitation", request, publisher=publisher)
    out_root = Path(out_root)
    out_root.mkdir(parents=True, exist_ok=True)
    staging = out_root / f".{name}.{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    try:
        _pack(Path(result.work_dir) / "train" / "export", staging)
        card = {
            "name": name,
            "family": name,
            "instruments": [{k: v for k, v in r.items() if k != "wav"} for r in rendered],
            "audio_seconds": seconds_per_instrument * len(rendered),
            "soundfont": {**SOUNDFONT, "sha256": _sha256(Path(SOUNDFONT["path"]))},
            "model": {k: int(getattr(profile, k)) for k in MODEL_SIZE_FIELDS},
            "learner_profile": overrides,
            "steps": int(profile.steps),
            "metrics": result.metrics,
            "registry": {"deu": result.deu, "version": result.version, "digest": result.digest},
            "decoder_sha256": _sha256(staging / "decoder.npz"),
            "build_seconds": round(time.perf_counter() - started, 1),
        }
        (staging / CARD_FILE).write_text(json.dumps(card, indent=2, sort_keys=True) + "\n")
        final = out_root / name
        if final.exists():
            old = out_root / f".{name}.old.{uuid.uuid4().hex[:8]}"
            os.replace(final, old)
            os.replace(staging, final)
            shutil.rmtree(old)
        else:
            os.replace(staging, final)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return find_prior(name, out_root)
