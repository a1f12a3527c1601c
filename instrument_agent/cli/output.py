"""Where the CLI prints: ``console`` (results, stdout), ``err_console`` (progress and problems,
stderr), and :func:`fail`, the one way a command stops on an expected error."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console
from rich.markup import escape

__all__ = ["console", "err_console", "fail"]

# rich looks sys.stdout / sys.stderr up at each print, so pytest's capture and typer's
# CliRunner see what these print.
console = Console()
err_console = Console(stderr=True)


def fail(exc: BaseException | str, code: int = 2) -> NoReturn:
    """Print ``error: <exc>`` as one line on stderr and exit with ``code`` (2: the user can fix it)."""
    err_console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False)
    raise typer.Exit(code)
