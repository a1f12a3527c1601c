"""Family priors: starter personalities (decoder weights) a new deu's practice starts from.

See :mod:`.catalog` and docs/practice.md ("Priors").
"""

from .catalog import (
    CARD_FILE,
    MODEL_SIZE_FIELDS,
    PRIORS_ENV,
    SHIPPED_PRIORS_DIR,
    Prior,
    PriorError,
    PriorMismatchError,
    UnknownPriorError,
    find_prior,
    list_priors,
    priors_dir,
)

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
