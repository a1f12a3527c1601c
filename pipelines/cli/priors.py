"""``amadeus priors build``: (re)build the family priors from FluidR3_GM renders, reproducibly
(seeded phrases, seeded training). Each family is an imitation practice of the deu
``prior-<family>``: rich progress, Ctrl-C resumable (the same command continues), published to
the registry the environment names like any personality, then packed into the priors directory.
Only typer and rich at import time."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from ._output import console

__all__ = ["build"]


def build(
    family: Annotated[
        Optional[list[str]],
        typer.Option("--family", "-f", help="A family to build (repeatable; default: all of them)."),
    ] = None,
    out: Annotated[
        Optional[Path],
        typer.Option("--out", help="The priors directory (default: $AMADEUS_PRIORS_DIR, else the agent package's)."),
    ] = None,
    seconds: Annotated[float, typer.Option(help="Rendered audio per GM instrument, s.")] = 60.0,
    steps: Annotated[Optional[int], typer.Option(help="Training steps per family (default 400).")] = None,
    max_minutes: Annotated[
        Optional[float], typer.Option(help="Stop each family's training after this many minutes.")
    ] = None,
    learner_profile: Annotated[
        Optional[str], typer.Option("--learner-profile", help="More learnerProfile fields as a JSON object.")
    ] = None,
) -> None:
    """Build the family priors (bowed-strings, flutes, reeds, brass, general) from FluidR3_GM (MIT).

    Needs fluidsynth and Debian's fluid-soundfont-gm. Prints each family's time and the total.
    """
    from instrument_agent.personality.home import amadeus_home
    from instrument_agent.priors import priors_dir
    from pipelines.practice import Publisher
    from pipelines.priors import FAMILIES, build_prior
    from pipelines.priors import family as check_family

    from .practice import _json_object

    names = list(family or FAMILIES)
    for name in names:
        check_family(name)  # UnknownFamilyError before any work
    overrides = _json_object(learner_profile, "--learner-profile")
    if steps:
        overrides["steps"] = steps
    if max_minutes:
        overrides["max_train_seconds"] = max_minutes * 60.0
    root = out or priors_dir()
    publisher = Publisher.from_env()
    work = amadeus_home() / "priors-build"
    started = time.perf_counter()
    for index, name in enumerate(names, 1):
        console.print(f"[bold cyan]prior {index}/{len(names)}[/bold cyan] {name}")
        t0 = time.perf_counter()
        prior = build_prior(
            name, root, seconds_per_instrument=seconds, learner_profile=overrides, work_dir=work, publisher=publisher
        )
        loss = prior.card.get("metrics", {}).get("eval/spectral_loss", float("nan"))
        console.print(
            f"[green]{name}[/green]: {prior.size_bytes / 1e6:.2f} MB, held-out loss {loss:.3f}, "
            f"{time.perf_counter() - t0:.0f} s → {prior.path}"
        )
    console.print(f"built {len(names)} priors in {time.perf_counter() - started:.0f} s")
