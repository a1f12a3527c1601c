"""``amadeus studio …``: run a studio, and use one as a client.

Server:   amadeus studio serve [--port 50051] [--metrics-port 9090] [--tokens tokens.yaml]
                               [--backend embedded|cluster] [--tls-cert C --tls-key K]
Tokens:   amadeus studio token ALICE --tokens tokens.yaml [--days 90]
Client:   amadeus studio list | practice | watch | download | perform   --studio HOST:PORT --token T

Only typer and rich are imported at module level; grpc and the server load inside the commands.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

__all__ = ["register"]

studio_app = typer.Typer(help="The gRPC studio: serve it, or practise and perform through one.", no_args_is_help=True)
console = Console()
err_console = Console(stderr=True)

StudioOpt = Annotated[str, typer.Option("--studio", envvar="AMADEUS_STUDIO", help="Studio address host:port.")]
TokenOpt = Annotated[
    Optional[str], typer.Option("--token", envvar="AMADEUS_STUDIO_TOKEN", help="Bearer token of your ama.")
]
CaOpt = Annotated[Optional[Path], typer.Option("--ca", help="CA certificate (PEM) of a TLS studio.")]


def register(app: typer.Typer) -> None:
    """Add ``amadeus studio`` to the app."""
    app.add_typer(studio_app, name="studio")


def _client(studio: str, token: str | None, ca: Path | None):
    from instrument_agent.client.studio_client import StudioClient

    return StudioClient(studio, token=token, root_certificates=ca)


def _fail(exc: Exception) -> None:
    err_console.print(f"[red]error:[/red] {exc}")
    raise typer.Exit(2)


@studio_app.command("serve")
def serve_command(
    port: Annotated[int, typer.Option(help="gRPC port.")] = 50051,
    metrics_port: Annotated[int, typer.Option(help="Prometheus /metrics port (-1: off).")] = 9090,
    tokens: Annotated[
        Optional[Path], typer.Option(help="Tokens file (YAML, hashed tokens); none: single-user studio.")
    ] = None,
    backend: Annotated[
        str, typer.Option(help="embedded (local store + runner) or cluster (Practice resources).")
    ] = "embedded",
    tls_cert: Annotated[Optional[Path], typer.Option(help="TLS certificate (PEM).")] = None,
    tls_key: Annotated[Optional[Path], typer.Option(help="TLS private key (PEM).")] = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "[::]",
    home: Annotated[Optional[Path], typer.Option(help="Studio home (default $AMADEUS_HOME).")] = None,
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

    The cluster backend reads its S3 credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.
    """
    from instrument_agent.personality.home import amadeus_home
    from studio_operator.server import StudioConfig, serve

    config = StudioConfig(
        home=home or amadeus_home(),
        host=host,
        port=port,
        metrics_port=None if metrics_port < 0 else metrics_port,
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
            f"[green]studio[/green] serving on {host}:{running.port} ({backend} backend, {auth}{metrics}); home {config.home}"
        )

    try:
        serve(config, ready=ready)
    except (ValueError, OSError) as exc:
        _fail(exc)


@studio_app.command("token")
def token_command(
    ama: Annotated[str, typer.Argument(help="The ama (tenant) the token belongs to.")],
    tokens: Annotated[Path, typer.Option(help="Tokens file to add the token's hash to.")],
    days: Annotated[Optional[float], typer.Option(help="Expire after this many days.")] = None,
) -> None:
    """Create a bearer token for an ama; prints it once (only its sha256 is stored)."""
    import datetime as dt

    from studio_operator.server.tenants import add_token

    expires = dt.datetime.now(dt.UTC) + dt.timedelta(days=days) if days else None
    try:
        console.print(add_token(tokens, ama, expires=expires))
    except ValueError as exc:
        _fail(exc)


@studio_app.command("list")
def list_command(
    studio: StudioOpt = "localhost:50051",
    token: TokenOpt = None,
    ca: CaOpt = None,
    deu: Annotated[str, typer.Argument(help="Only this deu.")] = "",
) -> None:
    """Your personalities in the studio."""
    from rich.table import Table

    from instrument_agent.client.studio_client import StudioClientError

    try:
        with _client(studio, token, ca) as client:
            rows = client.list_personalities(deu)
    except StudioClientError as exc:
        _fail(exc)
    table = Table(title=f"Personalities at {studio}")
    for column in ("deu", "version", "parent", "practice", "created", "digest"):
        table.add_column(column)
    for r in rows:
        table.add_row(r.deu, str(r.version), str(r.parent_version or "-"), r.practice, r.created, r.digest[:12])
    console.print(table)


@studio_app.command("practice")
def practice_command(
    deu: Annotated[str, typer.Argument(help="The deu to practise.")],
    audio: Annotated[Optional[list[Path]], typer.Argument(help="Audio files to upload.")] = None,
    practice_type: Annotated[str, typer.Option("--type", help="imitation | tuning | feedback.")] = "imitation",
    gain_db: Annotated[Optional[float], typer.Option(help="tuning: playerProfile gain, dB.")] = None,
    steps: Annotated[Optional[int], typer.Option(help="learnerProfile steps.")] = None,
    watch: Annotated[bool, typer.Option(help="Follow the practice until it ends.")] = True,
    studio: StudioOpt = "localhost:50051",
    token: TokenOpt = None,
    ca: CaOpt = None,
) -> None:
    """Start a practice (uploading audio in chunks, with progress) and follow it."""
    from rich.progress import Progress

    from instrument_agent.client.studio_client import StudioClientError
    from instrument_agent.proto import personality_pb2

    learner = personality_pb2.LearnerProfile(steps=steps) if steps else None
    player = personality_pb2.PlayerProfile(gain_db=gain_db) if gain_db is not None else None
    try:
        with _client(studio, token, ca) as client, Progress(transient=True, console=err_console) as bar:
            task = bar.add_task("uploading", total=None)
            ticket = client.practice(
                deu,
                practice_type,
                audio=audio or [],
                learner_profile=learner,
                player_profile=player,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
        console.print(f"practice [bold]{ticket.practice_id}[/bold] queued ({ticket.bytes_received} bytes uploaded)")
        if watch:
            _follow(studio, token, ca, ticket.practice_id)
    except StudioClientError as exc:
        _fail(exc)


def _follow(studio, token, ca, practice_id: str) -> None:
    from instrument_agent.proto import studio_pb2

    name = studio_pb2.PracticeProgress.Phase.Name
    last = None
    with _client(studio, token, ca) as client:
        for p in client.watch(practice_id, timeout=None):
            line = f"{name(p.phase):<9} {p.stage:<9} step {p.step}/{p.total_steps} loss {p.loss:.4f} {p.message}"
            if line != last:
                console.print(line)
                last = line
    if p.phase == studio_pb2.PracticeProgress.SUCCEEDED:
        console.print(f"[green]{p.deu} v{p.version}[/green] {p.digest[:12]}")
    else:
        raise typer.Exit(1)


@studio_app.command("watch")
def watch_command(
    practice_id: Annotated[str, typer.Argument(help="The practice id.")],
    studio: StudioOpt = "localhost:50051",
    token: TokenOpt = None,
    ca: CaOpt = None,
) -> None:
    """Follow a practice until it ends (exit 1 if it failed)."""
    from instrument_agent.client.studio_client import StudioClientError

    try:
        _follow(studio, token, ca, practice_id)
    except StudioClientError as exc:
        _fail(exc)


@studio_app.command("download")
def download_command(
    deu: Annotated[str, typer.Argument(help="The deu.")],
    version: Annotated[int, typer.Option("--version", "-v", help="Version (0 = latest).")] = 0,
    install: Annotated[
        bool, typer.Option(help="Add it to the local store ($AMADEUS_HOME) at the studio's version.")
    ] = True,
    out: Annotated[Optional[Path], typer.Option(help="Unpack into this new directory instead.")] = None,
    studio: StudioOpt = "localhost:50051",
    token: TokenOpt = None,
    ca: CaOpt = None,
) -> None:
    """Download a personality (resumable, digests verified)."""
    import tempfile

    from rich.progress import Progress

    from instrument_agent.client.studio_client import StudioClientError
    from instrument_agent.personality import PersonalityError
    from instrument_agent.personality.store import PersonalityStore

    try:
        with _client(studio, token, ca) as client, Progress(transient=True, console=err_console) as bar:
            task = bar.add_task(f"{deu}", total=None)
            report = lambda done, total: bar.update(task, completed=done, total=total)  # noqa: E731
            if out is not None:
                bundle = client.download(deu, out, version=version, progress=report)
            else:
                store = PersonalityStore()
                with tempfile.TemporaryDirectory(dir=store.home if store.home.exists() else None) as tmp:
                    got = client.download(deu, Path(tmp) / "bundle", version=version, progress=report)
                    files = {e.path: got.path / e.path for e in got.manifest.files}
                    bundle = store.commit(deu, got.manifest, files, version=got.version) if install else got
    except (StudioClientError, PersonalityError) as exc:
        _fail(exc)
    console.print(f"[green]{bundle.deu} v{bundle.version}[/green] {bundle.digest[:12]} → {bundle.path}")


@studio_app.command("perform")
def perform_command(
    deu: Annotated[str, typer.Argument(help="The deu.")],
    midi: Annotated[Path, typer.Argument(help="A Standard MIDI File.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="WAV file to write.")],
    version: Annotated[int, typer.Option("--version", "-v", help="Version (0 = latest).")] = 0,
    sample_rate: Annotated[int, typer.Option(help="Output sample rate, Hz.")] = 48000,
    studio: StudioOpt = "localhost:50051",
    token: TokenOpt = None,
    ca: CaOpt = None,
) -> None:
    """Render a MIDI file in the studio and write the WAV (atomically)."""
    import uuid

    from instrument_agent.client.studio_client import StudioClientError

    try:
        with _client(studio, token, ca) as client:
            response = client.perform_file(midi, deu=deu, version=version, sample_rate=sample_rate, timeout=None)
    except (StudioClientError, OSError) as exc:
        _fail(exc)
    tmp = out.with_name(f".{out.name}.{uuid.uuid4().hex[:8]}")
    tmp.write_bytes(response.audio)
    os.replace(tmp, out)
    console.print(f"{response.deu} v{response.version}: {response.seconds:.2f} s → {out} ({response.renderer})")
