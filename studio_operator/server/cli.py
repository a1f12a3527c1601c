"""``amadeus studio serve | amas | token | usage``: run a studio and manage its tenants.

Server:   amadeus studio serve [--port 50051] [--metrics-port 9090] [--database URL] [--plans plans.yaml]
                               [--backend embedded|cluster] [--tls-cert C --tls-key K] [--tokens tokens.yaml]
Tenants:  amadeus studio amas add|list|disable|plan|import, amadeus studio token issue|rotate|revoke|file,
          amadeus studio usage (:mod:`.admin_cli`: they read and write the database directly)

Registered into the agent's ``studio`` group (:func:`instrument_agent.cli.groups.studio_group`),
next to the client commands (``list``, ``practice``, ``download``...: :mod:`instrument_agent.cli.studio`).
Only typer at module level; the server loads inside the commands.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Optional

import typer

from instrument_agent.cli.groups import studio_group
from instrument_agent.cli.options import HomeOpt
from instrument_agent.cli.output import console, fail
from studio_operator.server.admin_cli import DatabaseOpt, amas_app, token_app, usage_command

__all__ = ["PANEL", "register", "studio_app"]

PANEL = "Run a studio"


def serve_command(
    port: Annotated[int, typer.Option(help="gRPC port.")] = 50051,
    metrics_port: Annotated[int, typer.Option(help="Prometheus /metrics port (-1: off).")] = 9090,
    database: DatabaseOpt = None,
    plans: Annotated[Optional[Path], typer.Option(help="Plans file (default: the packaged plans.yaml).")] = None,
    practice_device: Annotated[str, typer.Option(help="Where practices run: cpu or gpu (billed apart).")] = "cpu",
    tokens: Annotated[
        Optional[Path], typer.Option(help="A tokens.yaml to import into the database at start (migration).")
    ] = None,
    backend: Annotated[
        str, typer.Option(help="embedded (local store + runner) or cluster (Practice resources).")
    ] = "embedded",
    tls_cert: Annotated[Optional[Path], typer.Option(help="TLS certificate (PEM).")] = None,
    tls_key: Annotated[Optional[Path], typer.Option(help="TLS private key (PEM).")] = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "[::]",
    home: HomeOpt = None,
    max_upload_mb: Annotated[float, typer.Option(help="Largest audio upload per practice, MB.")] = 512.0,
    max_practices: Annotated[int, typer.Option(help="Practices queued or running at once per ama.")] = 2,
    workers: Annotated[int, typer.Option(help="Practices running at once (embedded).")] = 1,
    audio_root: Annotated[
        Optional[list[Path]], typer.Option(help="Server directory audio may be named from (repeatable).")
    ] = None,
    tf_serving: Annotated[Optional[str], typer.Option(help="TensorFlow Serving host:port for PerformFile.")] = None,
    namespace: Annotated[
        str, typer.Option(help="Kubernetes namespace of Practice resources (cluster); per ama: NAMESPACE-AMA.")
    ] = "amadeus",
    kubeconfig: Annotated[
        Optional[Path], typer.Option(help="kubeconfig (cluster; default in-cluster or ~/.kube/config).")
    ] = None,
    s3_endpoint: Annotated[
        Optional[str],
        typer.Option(
            envvar="AMADEUS_S3_ENDPOINT", help="S3 / MinIO API URL (cluster), e.g. http://minio.amadeus:9000."
        ),
    ] = None,
    s3_bucket: Annotated[
        str, typer.Option(envvar="AMADEUS_S3_BUCKET", help="Bucket of personalities and practice audio (cluster).")
    ] = "amadeus",
    s3_prefix: Annotated[
        str, typer.Option(envvar="AMADEUS_S3_PREFIX", help="Key prefix inside the bucket (cluster).")
    ] = "",
) -> None:
    """Run the studio until Ctrl-C / SIGTERM (graceful: in-flight calls finish, running practices are re-queued).

    With no amas in the database (amadeus studio amas add) the studio is single-user, without tokens.

    The cluster backend reads its S3 credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.
    """
    from instrument_agent.personality.home import amadeus_home
    from studio_operator.server import StudioConfig, serve

    config = StudioConfig(
        home=home or amadeus_home(),
        host=host,
        port=port,
        metrics_port=None if metrics_port < 0 else metrics_port,
        database=database,
        plans=plans,
        practice_device=practice_device,
        tokens=tokens,
        backend=backend,
        tls_cert=tls_cert,
        tls_key=tls_key,
        max_upload_bytes=int(max_upload_mb * 1e6),
        max_practices_per_tenant=max_practices,
        workers=workers,
        audio_roots=list(audio_root or []),
        tf_serving=tf_serving,
        namespace=namespace,
        kubeconfig=kubeconfig,
        s3_endpoint=s3_endpoint,
        s3_bucket=s3_bucket,
        s3_prefix=s3_prefix,
        s3_access_key=os.environ.get("AWS_ACCESS_KEY_ID") or None,
        s3_secret_key=os.environ.get("AWS_SECRET_ACCESS_KEY") or None,
    )

    def ready(running) -> None:
        auth = "tokens" if running.tokens.enabled else "no authentication"
        metrics = f", metrics on :{running.metrics_port}/metrics" if running.metrics_port else ""
        console.print(
            f"[green]studio[/green] serving on {host}:{running.port} ({backend} backend, {auth}{metrics}); "
            f"home {config.home}"
        )

    try:
        serve(config, ready=ready)
    except (ValueError, OSError) as exc:
        fail(exc)


def _add(group: typer.Typer) -> None:
    group.command("serve", rich_help_panel=PANEL)(serve_command)
    group.add_typer(amas_app, name="amas", rich_help_panel=PANEL)
    group.add_typer(token_app, name="token", rich_help_panel=PANEL)
    group.command("usage", rich_help_panel=PANEL)(usage_command)


studio_app = typer.Typer(
    help="Run a studio and manage its tenants (the server's commands alone).", no_args_is_help=True
)
_add(studio_app)


def register(app: typer.Typer) -> None:
    """Add ``studio serve | amas | token | usage`` to the ``amadeus`` app's ``studio`` group."""
    _add(studio_group(app))
