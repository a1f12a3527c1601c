"""What the pipelines commands print: one console, the metrics table, the published line."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

__all__ = ["console", "metrics_table", "published"]

console = Console()


def metrics_table(metrics: dict[str, float], title: str) -> Table:
    """The held-out loss of the personality against the sine and 1/k baselines."""
    table = Table(title=title)
    table.add_column("resynthesis of held-out audio")
    table.add_column("multi-scale spectral loss", justify="right")
    rows = [
        ("learned personality", "eval/spectral_loss"),
        ("sine baseline (true f0 + loudness)", "baseline/sine"),
        ("1/k harmonic stack baseline", "baseline/harmonic_1_over_k"),
    ]
    for label, key in rows:
        if key in metrics:
            table.add_row(label, f"{metrics[key]:.4f}")
    return table


def published(deu: str, version: int, location: str, practice_id: str) -> None:
    """``published <deu> v<N> to <registry> (practice <id>)``."""
    console.print(
        f"[green]published {deu} v{version}[/green] to {location}"
        + (f" (practice {practice_id})" if practice_id else "")
    )
