"""The ``amadeus`` command line.

The agent's own commands (``personalities``, ``play``, ``agent``) work with
only ``amadeus[agent]`` installed. Studio-side command groups (``practice``,
``demo``, ``pipelines``, ``studio``, ``operator``) are contributed through the
``amadeus.cli`` entry-point group and import their heavy dependencies only
when run.
"""

from __future__ import annotations

import json
import os

# The engine's matrices are small: multi-threaded BLAS measured ~10x slower on them
# than one thread. Must be set before numpy is first imported.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
from importlib import metadata
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from instrument_agent.personality import PersonalityError, manifest_to_dict
from instrument_agent.personality.store import PersonalityStore

__all__ = ["app", "main"]

app = typer.Typer(
    name="amadeus",
    help=(
        "Amadeus: a learning instrument. A deu (instrument) has a personality (a DDSP model "
        "with learner and player profiles) that you shape through practice sessions and play "
        "in performance sessions from (MPE) MIDI or audio.\n\n"
        "Data lives under $AMADEUS_HOME (default: your user data directory)."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
personalities_app = typer.Typer(
    help="List, inspect and verify the personalities in the local store.", no_args_is_help=True
)
app.add_typer(personalities_app, name="personalities")

console = Console()
err_console = Console(stderr=True)


@personalities_app.command("list")
def personalities_list(
    deu: Annotated[Optional[str], typer.Argument(help="Only this deu's versions.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Every version of every deu (or of one deu), with its lineage and practice."""
    store = PersonalityStore()
    rows = [info for name in ([deu] if deu else store.deus()) for info in store.versions(name)]
    if deu and not rows:
        store.latest_version(deu)  # raises a clear UnknownDeuError
    if as_json:
        console.print_json(json.dumps([row.to_dict() for row in rows]))
        return
    table = Table(title=f"Personalities in {store.root}")
    for column in ("deu", "version", "parent", "practice", "created", "digest"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            row.deu, str(row.version), str(row.parent_version or "-"), row.practice, row.created, row.digest[:12]
        )
    console.print(table if rows else f"No personalities yet in {store.root}. Start with: amadeus demo")


@personalities_app.command("show")
def personalities_show(
    deu: Annotated[str, typer.Argument(help="The deu's name.")],
    version: Annotated[Optional[int], typer.Option("--version", "-v", help="Version number (default: latest).")] = None,
) -> None:
    """Verify one personality and print its manifest (profiles, metrics, lineage, files)."""
    bundle = PersonalityStore().get(deu, version)
    console.print_json(
        json.dumps({"path": str(bundle.path), "digest": bundle.digest, **manifest_to_dict(bundle.manifest)})
    )


@personalities_app.command("verify")
def personalities_verify(
    deu: Annotated[Optional[str], typer.Argument(help="Only this deu (default: all).")] = None,
) -> None:
    """Re-hash every file of every version; exit 1 if any bundle was changed or truncated."""
    store = PersonalityStore()
    failures = 0
    for name in [deu] if deu else store.deus():
        for info in store.versions(name):
            try:
                store.get(name, info.version)
                console.print(f"[green]ok[/green]   {name} v{info.version} {info.digest[:12]}")
            except PersonalityError as exc:
                failures += 1
                console.print(f"[red]FAIL[/red] {name} v{info.version}: {exc}")
    raise typer.Exit(1 if failures else 0)


def _load_plugins() -> None:
    """Register the command groups other packages contribute (entry points ``amadeus.cli``)."""
    for entry in metadata.entry_points(group="amadeus.cli"):
        try:
            entry.load()(app)
        except ImportError as exc:  # a package whose light dependencies are missing
            if exc.name and entry.value.split(":")[0].startswith(exc.name):
                continue  # that package's CLI module does not exist in this build
            err_console.print(f"[dim]amadeus: commands from {entry.name} unavailable ({exc})[/dim]")


def _register_agent_commands() -> None:
    for module in ("instrument_agent.cli.play", "instrument_agent.cli.agent"):
        try:
            register = __import__(module, fromlist=["register"]).register
        except ImportError as exc:
            if exc.name == module:
                continue  # not built yet
            err_console.print(f"[dim]amadeus: commands from {module} unavailable ({exc})[/dim]")
            continue
        register(app)


_register_agent_commands()
_load_plugins()


def main(argv: list[str] | None = None) -> int:
    """Console entry point: run the app, turning expected errors into one clear line."""
    # TensorFlow's C++ start-up chatter (oneDNN, CUDA probing) is noise on a CLI.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        # Without standalone mode click returns a command's typer.Exit code instead of exiting.
        result = app(args=argv, standalone_mode=False)
        if isinstance(result, int):
            return result
    except PersonalityError as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        return 2
    except ValueError as exc:  # ProfileError and friends carry a full sentence
        err_console.print(f"[red]error:[/red] {exc}")
        return 2
    except KeyboardInterrupt:
        err_console.print("[yellow]interrupted[/yellow]: run the same command again to resume from the last checkpoint")
        return 130
    except typer.Exit as exc:
        return exc.exit_code
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    except typer.Abort:
        err_console.print("[yellow]aborted[/yellow]")
        return 1
    except Exception as exc:
        # Usage errors: typer ships its own click, so match by behaviour, not by class.
        if callable(getattr(exc, "show", None)) and isinstance(getattr(exc, "exit_code", None), int):
            exc.show()
            return exc.exit_code
        raise
    return 0
