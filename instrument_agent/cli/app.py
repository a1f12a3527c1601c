"""The ``amadeus`` command line: one typer app, built once.

The agent's own command modules (listed in :data:`AGENT_COMMANDS`) work with only
``amadeus[agent]`` installed; each exposes ``register(app)``. The heavier packages contribute
theirs through the ``amadeus.cli`` entry points (``pipelines.cli:register``,
``studio_operator.cli:register``), which import their heavy dependencies only when a command
runs. :func:`main` turns the errors a user can fix into one line.
"""

from __future__ import annotations

import os

# The engine's matrices are small: multi-threaded BLAS measured ~10x slower on them
# than one thread. Must be set before numpy is first imported.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
from importlib import metadata

import typer
from rich.markup import escape

from instrument_agent.cli import agent, personalities, play, priors, studio, studio_practice, studios
from instrument_agent.cli.output import err_console

__all__ = ["AGENT_COMMANDS", "PLUGIN_GROUP", "app", "build_app", "main"]

PLUGIN_GROUP = "amadeus.cli"
_PROJECT_PACKAGES = ("instrument_agent", "pipelines", "studio_operator")

# In the order they appear in the help; each module's ``register(app)`` adds its commands.
AGENT_COMMANDS = (personalities, play, agent, studios, studio, studio_practice, priors)

_HELP = (
    "Amadeus: a learning instrument. A deu (instrument) has a personality (a DDSP model "
    "with learner and player profiles) that you shape through practice sessions and play "
    "in performance sessions from (MPE) MIDI or audio.\n\n"
    "Data lives under $AMADEUS_HOME (default: your user data directory)."
)


def load_plugins(app: typer.Typer) -> None:
    """Register the command groups other packages contribute (entry points ``amadeus.cli``).

    A plugin is skipped quietly when its own module is absent from this build, or when a
    third-party package it needs is not installed (``amadeus[agent]`` has no studio extra);
    one that fails to import for another reason (a bug) is named on stderr, and the rest of
    the CLI still works."""
    for entry in metadata.entry_points(group=PLUGIN_GROUP):
        try:
            register = entry.load()
        except ImportError as exc:
            missing = (exc.name or "").partition(".")[0]
            if isinstance(exc, ModuleNotFoundError) and missing and missing not in _PROJECT_PACKAGES:
                continue  # an extra that is not installed
            if exc.name and entry.module.startswith(exc.name):
                continue  # that package is not part of this build
            err_console.print(f"[dim]amadeus: commands from {entry.name} unavailable ({escape(str(exc))})[/dim]")
            continue
        register(app)


def build_app(*, plugins: bool = True) -> typer.Typer:
    """A new ``amadeus`` app with the agent's commands and (``plugins``) the contributed ones."""
    app = typer.Typer(
        name="amadeus", help=_HELP, no_args_is_help=True, pretty_exceptions_enable=False, rich_markup_mode="rich"
    )
    for module in AGENT_COMMANDS:
        module.register(app)
    if plugins:
        load_plugins(app)
    return app


app = build_app()


_INTERRUPTED = "[yellow]interrupted[/yellow]: run the same command again to resume from the last checkpoint"


def _caused_by_interrupt(exc: BaseException) -> bool:
    """True when a Ctrl-C is in ``exc``'s chain (a library that turned the KeyboardInterrupt into
    another error, ``raise ... from``, was interrupted, not broken), or when a Ctrl-C arrived
    before ``exc`` at all (:func:`instrument_agent.interrupts.pending`): one that landed inside
    an import (TensorFlow's, seen in the practice kill test) leaves a half-imported module whose
    next use fails with an unrelated AttributeError."""
    from instrument_agent import interrupts

    if interrupts.pending():
        return True
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, KeyboardInterrupt):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def main(argv: list[str] | None = None) -> int:
    """Console entry point: run the app, turning expected errors into one clear line."""
    from instrument_agent.personality import PersonalityError

    # TensorFlow's C++ start-up chatter (oneDNN, CUDA probing) is noise on a CLI.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        # Without standalone mode click returns a command's typer.Exit code instead of exiting.
        result = app(args=argv, standalone_mode=False)
        if isinstance(result, int):
            return result
    except (PersonalityError, ValueError) as exc:  # ProfileError, AgentStateError and friends carry a full sentence
        if _caused_by_interrupt(exc):
            err_console.print(_INTERRUPTED)
            return 130
        err_console.print(f"[red]error:[/red] {escape(str(exc))}")
        return 2
    except KeyboardInterrupt:
        err_console.print(_INTERRUPTED)
        return 130
    except typer.Exit as exc:
        return exc.exit_code
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    except typer.Abort:
        err_console.print("[yellow]aborted[/yellow]")
        return 1
    except Exception as exc:
        if _caused_by_interrupt(exc):
            err_console.print(_INTERRUPTED)
            return 130
        # Usage errors: typer ships its own click, so match by behaviour, not by class.
        show, exit_code = getattr(exc, "show", None), getattr(exc, "exit_code", None)
        if callable(show) and isinstance(exit_code, int):
            show()
            return exit_code
        raise
    return 0
