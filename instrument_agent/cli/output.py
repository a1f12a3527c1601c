"""Where the CLI prints: ``console`` (results, stdout), ``err_console`` (progress and problems,
stderr), and :func:`fail`, the one way a command stops on an expected error."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

if TYPE_CHECKING:
    from rich.progress import Progress

__all__ = ["console", "err_console", "fail", "progress_bar"]

# rich looks sys.stdout / sys.stderr up at each print, so pytest's capture and typer's
# CliRunner see what these print.
console = Console()
err_console = Console(stderr=True)


def fail(exc: BaseException | str, code: int = 2) -> NoReturn:
    """Print ``error: <exc>`` as one line on stderr and exit with ``code`` (2: the user can fix it)."""
    err_console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False)
    raise typer.Exit(code)


def progress_bar(*columns: Any) -> Progress:
    """A transient :class:`rich.progress.Progress` on stderr, shown only when stderr is a terminal
    (piped or captured output gets no bar and no blank line)."""
    from rich.progress import Progress

    return Progress(*columns, transient=True, console=err_console, disable=not err_console.is_terminal)
