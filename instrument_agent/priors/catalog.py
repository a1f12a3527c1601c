"""The family priors a new deu's imitation practice can start from (numpy and json only).

A prior is a personality's decoder trained on audio the project renders itself from the
FluidR3_GM soundfont (MIT licence), one per instrument family. Each lives in a directory::

    <priors dir>/<name>/card.json     the data card: family, GM programs, notes, seeds, licence,
                                      the learnerProfile's model sizes, the training budget
                    decoder.npz       the decoder's weights (float16; ``decoder.npz`` keys)
                    reverb_ir.npy     the learned reverb impulse response (float16), when any

The priors directory is :data:`SHIPPED_PRIORS_DIR` (package data of ``instrument_agent``),
or ``$AMADEUS_PRIORS_DIR`` when set (e.g. priors built elsewhere, or in tests).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from instrument_agent.proto import personality_pb2

__all__ = [
    "CARD_FILE",
    "MODEL_SIZE_FIELDS",
    "PRIORS_ENV",
    "SHIPPED_PRIORS_DIR",
    "Prior",
    "PriorError",
    "PriorMismatchError",
    "UnknownPriorError",
    "find_prior",
    "list_priors",
    "priors_dir",
]

SHIPPED_PRIORS_DIR = Path(__file__).with_name("bundles")
"""Where the priors the agent package ships live."""
PRIORS_ENV = "AMADEUS_PRIORS_DIR"
CARD_FILE = "card.json"
MODEL_SIZE_FIELDS = (
    "sample_rate",
    "frame_rate",
    "n_harmonics",
    "n_noise_bands",
    "hidden_size",
    "mlp_layers",
    "gru_units",
)
"""The learnerProfile fields a prior's weights fix: a practice can start from it only when they agree."""


class PriorError(ValueError):
    """A prior cannot be used (unknown, damaged, or not fitting the learnerProfile)."""


class UnknownPriorError(PriorError):
    """No prior of that name in the priors directory."""


class PriorMismatchError(PriorError):
    """A prior whose model sizes or rates differ from the learnerProfile's."""


@dataclass(frozen=True)
class Prior:
    """One family prior.

    Attributes:
        name: its name (the directory's), e.g. ``bowed-strings``.
        path: its directory.
        card: the data card (``card.json``) as a dict.
    """

    name: str
    path: Path
    card: Mapping[str, Any] = field(repr=False)

    @property
    def family(self) -> str:
        return str(self.card.get("family", self.name))

    @property
    def instruments(self) -> list[str]:
        """The GM instruments it learned from, e.g. ``["40 Violin", "41 Viola"]``."""
        return [f"{i['program']} {i['name']}" for i in self.card.get("instruments", ())]

    @property
    def size_bytes(self) -> int:
        """Bytes on disk of its files."""
        return sum(p.stat().st_size for p in self.path.iterdir() if p.is_file())

    @property
    def data(self) -> str:
        """What it was trained on, in words."""
        seconds = float(self.card.get("audio_seconds", 0.0))
        return f"{seconds:.0f} s of {self.card.get('soundfont', {}).get('name', 'FluidR3_GM')} renders"

    @property
    def licence(self) -> str:
        return str(self.card.get("soundfont", {}).get("licence", "unknown"))

    @property
    def digest(self) -> str:
        """sha256 of ``decoder.npz`` (what a deu's lineage records)."""
        return hashlib.sha256((self.path / "decoder.npz").read_bytes()).hexdigest()

    def verify(self) -> None:
        """Raise :class:`PriorError` when ``decoder.npz`` is missing or fails the card's digest."""
        expected = self.card.get("decoder_sha256", "")
        if not (self.path / "decoder.npz").is_file():
            raise PriorError(f"prior {self.name!r}: {self.path / 'decoder.npz'} is missing")
        if expected and self.digest != expected:
            raise PriorError(f"prior {self.name!r}: decoder.npz fails its digest (expected {expected[:12]}…)")

    def mismatch(self, learner_profile: personality_pb2.LearnerProfile) -> str:
        """'' when the prior's sizes fit ``learner_profile`` (a resolved LearnerProfile); else why not."""
        sizes = self.card.get("model", {})
        wrong = [f"{k}={sizes.get(k)} (profile {getattr(learner_profile, k)})" for k in MODEL_SIZE_FIELDS
                 if int(sizes.get(k, -1)) != int(getattr(learner_profile, k))]  # fmt: skip
        return ", ".join(wrong)

    def check_fits(self, learner_profile: personality_pb2.LearnerProfile) -> None:
        """Raise :class:`PriorMismatchError` naming the fields that differ."""
        why = self.mismatch(learner_profile)
        if why:
            raise PriorMismatchError(f"prior {self.name!r} does not fit the learnerProfile: {why}")


def priors_dir() -> Path:
    """``$AMADEUS_PRIORS_DIR`` when set, else :data:`SHIPPED_PRIORS_DIR`."""
    env = os.environ.get(PRIORS_ENV, "")
    return Path(env) if env else SHIPPED_PRIORS_DIR


def _load(path: Path) -> Prior:
    try:
        card = json.loads((path / CARD_FILE).read_text())
    except (OSError, ValueError) as exc:
        raise PriorError(f"prior {path.name!r}: cannot read {path / CARD_FILE} ({exc})") from None
    return Prior(path.name, path, card)


def list_priors(root: str | Path | None = None) -> list[Prior]:
    """Every prior (a directory with a ``card.json``) under ``root`` (default :func:`priors_dir`), by name."""
    root = Path(root) if root is not None else priors_dir()
    if not root.is_dir():
        return []
    return [_load(p) for p in sorted(root.iterdir()) if (p / CARD_FILE).is_file()]


def find_prior(name: str, root: str | Path | None = None) -> Prior:
    """The prior called ``name``; raises :class:`UnknownPriorError` listing the known ones."""
    known = list_priors(root)
    for prior in known:
        if prior.name == name:
            return prior
    names = ", ".join(p.name for p in known) or "none are installed; build them with `amadeus priors build`"
    raise UnknownPriorError(f"unknown prior {name!r} (known: {names}; or 'auto' / 'none')")
