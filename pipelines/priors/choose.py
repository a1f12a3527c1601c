"""Which prior a new deu starts from: ``learnerProfile.prior`` = ``none``, a prior's name, or
``auto`` — the prior whose decoder best resynthesises a few seconds of the ama's own audio.

``auto`` is measured, not guessed: each fitting prior's decoder is loaded into the practice's
model and scored with the learnerProfile's multi-scale spectral loss on up to
:data:`SCORE_SECONDS` of the held-out examples (their own f0 and loudness in, audio out,
fixed noise seed); the lowest loss wins. Untrained weights ("from noise") are scored too, as a
reference row of the table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from instrument_agent.priors import Prior, PriorError, find_prior, list_priors

__all__ = ["SCORE_SECONDS", "PriorChoice", "choose_prior", "score_priors"]

SCORE_SECONDS = 8.0
"""At most this much of the ama's audio scores each prior, s."""


@dataclass(frozen=True)
class PriorChoice:
    """The prior a practice starts from (None: from noise) and, for ``auto``, the measurement.

    Attributes:
        prior: the chosen prior, or None.
        asked: the learnerProfile's ``prior`` value (auto | none | a name).
        losses: prior name → spectral loss on the scored audio (``auto`` only; ``(from noise)`` included).
        skipped: prior name → why it could not compete (its sizes differ from the learnerProfile's).
    """

    prior: Prior | None
    asked: str
    losses: dict[str, float] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "asked": self.asked,
            "prior": self.prior.name if self.prior else "",
            "prior_digest": self.prior.digest if self.prior else "",
            "losses": self.losses,
            "skipped": self.skipped,
        }


NOISE = "(from noise)"


def score_priors(priors: list[Prior], examples: Mapping[str, np.ndarray], learner_profile) -> dict[str, float]:
    """Spectral loss of each prior (and of untrained weights, key :data:`NOISE`) resynthesising ``examples``.

    Args:
        priors: priors that fit ``learner_profile``.
        examples: ``audio`` [E, n] and ``f0_hz`` / ``loudness_db`` [E, T] (the scored examples).
        learner_profile: the practice's resolved LearnerProfile (model sizes, loss settings).
    """
    import tempfile

    import tensorflow as tf

    from pipelines.training import Trainer

    inputs = {k: tf.constant(np.asarray(examples[k], np.float32)) for k in ("f0_hz", "loudness_db")}
    target = tf.constant(np.asarray(examples["audio"], np.float32))
    seed = tf.constant([7, 11], tf.int32)
    with tempfile.TemporaryDirectory(prefix="amadeus-prior-score-") as scratch:
        trainer = Trainer(learner_profile, Path(scratch), progress=False)

        def loss() -> float:
            return float(trainer.loss_fn(target, trainer.model(inputs, training=False, noise_seed=seed)["audio"]))

        losses = {NOISE: loss()}
        for prior in priors:
            trainer.warm_start(prior.path)
            losses[prior.name] = loss()
    return losses


def _scored_examples(features_dir: Path, sample_rate: int) -> dict[str, np.ndarray]:
    from pipelines.data import Examples

    for name in ("holdout.npz", "train.npz"):
        path = features_dir / name
        if path.is_file():
            examples = Examples.load(path)
            if len(examples.audio):
                count = max(1, int(SCORE_SECONDS * sample_rate // examples.audio.shape[1]))
                return {k: getattr(examples, k)[:count] for k in ("audio", "f0_hz", "loudness_db")}
    raise PriorError(f"{features_dir}: no examples to score the priors on")


def choose_prior(learner_profile, features_dir: str | Path, root: str | Path | None = None) -> PriorChoice:
    """The prior ``learner_profile.prior`` asks for (``auto``: measured on ``features_dir``'s examples).

    Raises:
        UnknownPriorError: a name no prior has (listing the known ones).
        PriorMismatchError: the named prior's model sizes differ from the learnerProfile's.
        PriorError: the named prior's files fail their digest.
    """
    asked = learner_profile.prior or "auto"
    if asked == "none":
        return PriorChoice(None, asked)
    if asked != "auto":
        prior = find_prior(asked, root)
        prior.check_fits(learner_profile)
        prior.verify()
        return PriorChoice(prior, asked)
    fitting, skipped = [], {}
    for prior in list_priors(root):
        why = prior.mismatch(learner_profile)
        if why:
            skipped[prior.name] = why
            continue
        try:
            prior.verify()
        except PriorError as exc:
            skipped[prior.name] = str(exc)
            continue
        fitting.append(prior)
    if not fitting:
        return PriorChoice(None, asked, skipped=skipped)
    losses = score_priors(fitting, _scored_examples(Path(features_dir), learner_profile.sample_rate), learner_profile)
    best = min(fitting, key=lambda p: losses[p.name])
    return PriorChoice(best, asked, losses, skipped)
