"""``amadeus pipelines compile``: the practice pipelines as Kubeflow Pipelines IR YAML."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

__all__ = ["pipelines_app"]

_console = Console(stderr=True)

pipelines_app = typer.Typer(help="Kubeflow Pipelines definitions of the practices.", no_args_is_help=True)


@pipelines_app.command("compile")
def compile_command(
    type_: Annotated[str, typer.Option("--type", "-t", help="imitation | tuning | feedback.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the KFP IR YAML.")],
    image: Annotated[
        Optional[str], typer.Option(help="Studio image of every step (default $AMADEUS_STUDIO_IMAGE).")
    ] = None,
    gpus: Annotated[int, typer.Option(help="GPUs per compute step (0 = CPU only).")] = 0,
    accelerator: Annotated[str, typer.Option(help="Accelerator resource type.")] = "nvidia.com/gpu",
    node_selector: Annotated[
        Optional[list[str]], typer.Option("--node-selector", help="KEY=VALUE, repeatable.")
    ] = None,
    toleration: Annotated[
        Optional[list[str]], typer.Option("--toleration", help="KEY[=VALUE]:EFFECT, repeatable.")
    ] = None,
    cpu: Annotated[str, typer.Option(help="CPU request of compute steps, e.g. 2.")] = "",
    memory: Annotated[str, typer.Option(help="Memory request of compute steps, e.g. 8Gi.")] = "",
) -> None:
    """Compile a practice pipeline to Kubeflow Pipelines IR YAML (upload it, or let the studio operator submit it)."""
    from pipelines.kfp_pipelines import UnknownPracticeTypeError, compile_practice_pipeline

    selectors = {}
    for item in node_selector or ():
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"{item!r}: expected KEY=VALUE", param_hint="--node-selector")
        selectors[key] = value
    tolerations = []
    for item in toleration or ():
        left, sep, effect = item.rpartition(":")
        if not sep or not left:
            raise typer.BadParameter(f"{item!r}: expected KEY[=VALUE]:EFFECT", param_hint="--toleration")
        key, eq, value = left.partition("=")
        tolerations.append(
            {"key": key, "operator": "Equal" if eq else "Exists", "value": value or None, "effect": effect}
        )
    try:
        path = compile_practice_pipeline(
            type_,
            str(output),
            image=image,
            accelerator_type=accelerator if gpus else "",
            accelerator_limit=gpus,
            node_selector=selectors,
            tolerations=tolerations,
            cpu_request=cpu,
            memory_request=memory,
        )
    except UnknownPracticeTypeError as exc:
        raise typer.BadParameter(str(exc), param_hint="--type") from None
    _console.print(f"[green]wrote[/green] {path}")
