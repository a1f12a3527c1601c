"""Family priors, studio side: render a family from FluidR3_GM and train its prior
(:mod:`.build`), and choose the prior a new deu starts from (:mod:`.choose`). The catalog of
built priors is the agent's (:mod:`instrument_agent.priors`)."""

from .build import PRIOR_PROFILE, build_prior, prior_deu
from .choose import SCORE_SECONDS, PriorChoice, choose_prior, score_priors
from .families import FAMILIES, SOUNDFONT, Family, Instrument, UnknownFamilyError, family
from .render import phrase_notes, render_family, write_phrase

__all__ = [
    "FAMILIES",
    "PRIOR_PROFILE",
    "SCORE_SECONDS",
    "SOUNDFONT",
    "Family",
    "Instrument",
    "PriorChoice",
    "UnknownFamilyError",
    "build_prior",
    "choose_prior",
    "family",
    "phrase_notes",
    "prior_deu",
    "render_family",
    "score_priors",
    "write_phrase",
]
