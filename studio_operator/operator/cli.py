"""``amadeus operator run``: the Practice operator as a command (the chart's operator container)."""

from __future__ import annotations

from typing import Annotated

import typer

from instrument_agent.cli.groups import command_group
from instrument_agent.cli.output import err_console, fail

__all__ = ["HELP", "register"]

HELP = "The Practice operator: reconciles Practice resources into practice runs."


def run_command(
    kubeconfig: Annotated[
        str | None, typer.Option(help="kubeconfig file (default: in-cluster, then $KUBECONFIG)")
    ] = None,
    namespace: Annotated[
        list[str] | None, typer.Option("--namespace", "-n", help="watch this namespace (repeatable)")
    ] = None,
    all_namespaces: Annotated[bool, typer.Option("--all-namespaces", "-A", help="watch every namespace")] = False,
    metrics_port: Annotated[int | None, typer.Option(help="serve Prometheus /metrics on this port")] = None,
    health_port: Annotated[int | None, typer.Option(help="serve the liveness probe /healthz on this port")] = None,
    backend: Annotated[str | None, typer.Option(help="default backend: kfp or job (else $AMADEUS_BACKEND)")] = None,
    kfp_host: Annotated[str | None, typer.Option(help="KFP API endpoint (else $AMADEUS_KFP_HOST)")] = None,
) -> None:
    """Run until interrupted (SIGINT/SIGTERM stop it cleanly; a restart resumes without resubmitting)."""
    import asyncio

    from studio_operator.operator.config import ConfigError, OperatorConfig
    from studio_operator.operator.runner import ClusterLoginError, run_operator

    if not namespace and not all_namespaces:
        fail("give --namespace NAME (repeatable) or --all-namespaces")
    overrides = {k: v for k, v in {"default_backend": backend, "kfp_host": kfp_host}.items() if v}
    try:
        config = OperatorConfig.from_env(**overrides)
    except ConfigError as exc:
        fail(exc)
    watched = "all namespaces" if all_namespaces else ", ".join(namespace or [])
    err_console.print(f"amadeus operator: backend [bold]{config.default_backend}[/], watching {watched}")
    kwargs = {"liveness_endpoint": f"http://0.0.0.0:{health_port}/healthz"} if health_port else {}
    try:
        asyncio.run(
            run_operator(
                config,
                kubeconfig=kubeconfig,
                namespaces=() if all_namespaces else tuple(namespace or ()),
                metrics_port=metrics_port,
                **kwargs,
            )
        )
    except ClusterLoginError as exc:
        fail(exc, code=1)
    except KeyboardInterrupt:
        err_console.print("stopped")


def register(app: typer.Typer) -> None:
    """Add the ``operator`` command group to ``app``."""
    group = command_group(app, "operator", HELP)
    group.command("run")(run_command)
