"""``amadeus agent``, ``amadeus studios …``, ``amadeus sync`` and ``amadeus status``.

Registered by :mod:`instrument_agent.cli` through :func:`register`. Errors
(unreachable studio, refused token, corrupt download, full disk) surface as one
clear line from the CLI's main (exit code 2).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Optional

import typer

__all__ = ["register"]

_AGENT_HELP = """Run the instrument agent next to your DAW, with its web UI.

It plays the personality it last synced (no network needed), syncs newer ones from the
selected studio in the background (and hot-swaps to them without an audio dropout), opens
the virtual MIDI port [bold]Amadeus <deu>[/bold] for your DAW, and serves the UI on
http://127.0.0.1:PORT/ with three tabs: Practice, Play and Repair. Ctrl-C stops it.

    amadeus studios add home localhost:50051 --token $AMADEUS_TOKEN
    amadeus agent --ui-port 8765"""


def _console(stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr)


def register(app: typer.Typer) -> None:
    """Add ``agent``, ``studios``, ``sync`` and ``status`` to the ``amadeus`` app."""
    studios = typer.Typer(
        help="Register, list, select and remove the studios this instrument syncs from.", no_args_is_help=True
    )
    app.add_typer(studios, name="studios", rich_help_panel="Agent")

    @app.command("agent", help=_AGENT_HELP, rich_help_panel="Agent")
    def agent(
        ui_port: Annotated[
            Optional[int],
            typer.Option(
                "--ui-port", help="Port of the local web UI (default: the saved setting, 8765; 0 = any free port)."
            ),
        ] = None,
        no_audio: Annotated[
            bool, typer.Option("--no-audio", help="Don't open the sound card (the keyboard and recording still work).")
        ] = False,
        no_midi: Annotated[bool, typer.Option("--no-midi", help="Don't open the virtual MIDI port.")] = False,
        open_browser: Annotated[bool, typer.Option("--open/--no-open", help="Open the UI in your browser.")] = False,
        audio_backend: Annotated[
            str,
            typer.Option(
                "--backend",
                help="Audio output: auto (JACK when a JACK/PipeWire-JACK server runs, else the sound card), "
                "jack or portaudio.",
            ),
        ] = "auto",
    ) -> None:
        from instrument_agent.agent import Agent, AgentServer

        console = _console(stderr=True)
        service = Agent(audio=not no_audio, midi=not no_midi, audio_backend=audio_backend)
        port = ui_port if ui_port is not None else service.state.load().settings.ui_port
        try:
            server = AgentServer(service, port)
        except OSError as exc:
            raise typer.BadParameter(
                f"port {port} is not free ({exc.strerror}); pass another --ui-port", param_hint="--ui-port"
            ) from None
        service.start()
        url = server.start()
        status = service.status()
        playing = status["player"]["playing"]
        console.print(f"[bold]Amadeus agent[/bold] on [link={url}]{url}[/link]")
        console.print(
            f"  playing : {playing['deu'] + ' v' + str(playing['version']) if playing else 'nothing yet (sync or practise first)'}"
        )
        console.print(f"  audio   : {status['player']['audio']}")
        console.print(f"  MIDI    : {status['player']['midi']}")
        console.print(f"  studio  : {status['studio'] or 'none registered (amadeus studios add NAME HOST:PORT)'}")
        if open_browser:
            import webbrowser

            webbrowser.open(url)
        last = ""
        try:
            while True:
                time.sleep(1.0)
                status = service.status()
                line = f"{status['connection']} · {status['practice']}" + (
                    f" · {status['error']}" if status["error"] else ""
                )
                if line != last:
                    console.print(f"[dim]{time.strftime('%H:%M:%S')}[/dim] {line}")
                    last = line
        except KeyboardInterrupt:
            console.print("stopping…")
        finally:
            server.stop()
            service.stop()

    @studios.command("add")
    def studios_add(
        name: Annotated[str, typer.Argument(help="A short name for the studio, e.g. home.")],
        address: Annotated[str, typer.Argument(help="host:port of its gRPC endpoint.")],
        token: Annotated[
            Optional[str], typer.Option("--token", envvar="AMADEUS_TOKEN", help="Your bearer token (hosted studios).")
        ] = None,
        tls: Annotated[bool, typer.Option("--tls", help="Connect with TLS.")] = False,
        root_cert: Annotated[
            Optional[Path], typer.Option("--root-cert", help="PEM CA bundle for a private CA (implies --tls).")
        ] = None,
        select: Annotated[
            Optional[bool],
            typer.Option("--select/--no-select", help="Make it the selected studio (default: when none is)."),
        ] = None,
        check: Annotated[
            bool, typer.Option("--check/--no-check", help="Check that it answers and accepts the token first.")
        ] = True,
    ) -> None:
        """Register a studio (checked first: it must answer and accept the token)."""
        from instrument_agent.agent.state import AgentState, validate_address
        from instrument_agent.client.sync import open_studio, translate_rpc_error
        from instrument_agent.proto import instrument_pb2

        validate_address(address)
        tls = tls or root_cert is not None
        if check:
            registration = instrument_pb2.StudioRegistration(
                name=name, address=address, tls=tls, token=token or "", root_certificate_path=str(root_cert or "")
            )
            client = open_studio(registration, timeout_s=5.0)
            try:
                count = len(client.list_personalities())
            except Exception as exc:
                translated = translate_rpc_error(exc, name, address)
                raise (translated if translated is not exc else exc) from None
            finally:
                client.close()
            _console().print(f"studio {name!r} answers: {count} personality version{'s' if count != 1 else ''} for you")
        state = AgentState().add_studio(
            name, address, tls=tls, token=token or "", root_certificate_path=str(root_cert or ""), select=select
        )
        _console().print(f"registered {name!r} ({address}){'; selected' if state.selected_studio == name else ''}")

    @studios.command("list")
    def studios_list(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
        """The registered studios; * marks the selected one."""
        from rich.table import Table

        from instrument_agent.agent.state import AgentState

        state = AgentState().load()
        rows = [
            {
                "name": s.name,
                "address": s.address,
                "tls": s.tls,
                "token": bool(s.token),
                "selected": s.name == state.selected_studio,
            }
            for s in state.studios
        ]
        if as_json:
            _console().print_json(json.dumps(rows))
            return
        if not rows:
            _console().print("No studios registered. Add one: amadeus studios add NAME HOST:PORT [--token ...]")
            return
        table = Table()
        for column in ("", "name", "address", "TLS", "token"):
            table.add_column(column)
        for row in rows:
            table.add_row(
                "*" if row["selected"] else "",
                row["name"],
                row["address"],
                "yes" if row["tls"] else "no",
                "set" if row["token"] else "-",
            )
        _console().print(table)

    @studios.command("select")
    def studios_select(name: Annotated[str, typer.Argument(help="A registered studio.")]) -> None:
        """Sync from and practise with this studio from now on."""
        from instrument_agent.agent.state import AgentState

        AgentState().select_studio(name)
        _console().print(f"selected {name!r}")

    @studios.command("remove")
    def studios_remove(name: Annotated[str, typer.Argument(help="A registered studio.")]) -> None:
        """Forget a studio (personalities synced from it stay in the local store)."""
        from instrument_agent.agent.state import AgentState

        state = AgentState().remove_studio(name)
        _console().print(
            f"removed {name!r}" + (f"; selected is now {state.selected_studio!r}" if state.selected_studio else "")
        )

    @app.command("sync", rich_help_panel="Agent")
    def sync(
        deu: Annotated[
            Optional[str], typer.Option("--deu", help="Only this deu (default: every deu you have in the studio).")
        ] = None,
    ) -> None:
        """Download the newest personality of each deu from the selected studio and switch to it.

        Resumable and verified by digest; older versions stay in the local store."""
        from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

        from instrument_agent.client.sync import Syncer

        tasks: dict[str, int] = {}
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            transient=True,
            console=_console(stderr=True),
        ) as bar:

            def progress(name: str, done: int, total: int) -> None:
                if name not in tasks:
                    tasks[name] = bar.add_task(name, total=total, completed=done)
                bar.update(tasks[name], completed=done, total=total)

            report = Syncer().sync(deu, progress=progress)
        console = _console()
        if not report.deus:
            console.print(f"studio {report.studio!r} has no personalities for you yet")
        for row in report.deus:
            extra = f" (resumed at {row.resumed_from} bytes)" if row.resumed_from else ""
            console.print(f"{row.deu} v{row.version}: {row.action}{extra}")

    @app.command("status", rich_help_panel="Agent")
    def status(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
        """What the instrument plays, its studio, and whether practices are running.

        "up to date" when none are. Asks the running agent when there is one."""
        from instrument_agent.agent.state import AgentState

        state = AgentState()
        loaded = state.load()
        live = _running_agent_status(loaded.settings.ui_port)
        if as_json:
            payload = live or {
                "agent": "not running",
                "studio": loaded.selected_studio,
                "current": {
                    d: {"version": c.version, "digest": c.digest, "studio": c.studio}
                    for d, c in sorted(loaded.current.items())
                },
                "data_path": str(state.data_path),
            }
            _console().print_json(json.dumps(payload))
            return
        console = _console()
        console.print(
            f"agent    : {'running on http://127.0.0.1:%d/' % loaded.settings.ui_port if live else 'not running (start it: amadeus agent)'}"
        )
        console.print(
            f"studio   : {loaded.selected_studio or 'none registered'}" + (f" ({live['connection']})" if live else "")
        )
        if live:
            console.print(f"practice : {live['practice']}")
            for row in live["practices"]:
                console.print(
                    f"  {row['deu']} {row['type']} {row['phase']} {row['stage']} {100 * row['progress']:.0f}%"
                )
            if live["error"]:
                console.print(f"[red]problem[/red]  : {live['error']}")
        for deu, current in sorted(loaded.current.items()):
            marker = "▶" if deu == loaded.selected_deu else " "
            console.print(f"{marker} {deu} v{current.version} {current.digest[:12]} from {current.studio or 'local'}")
        if not loaded.current:
            console.print("no personality synced yet: amadeus sync")


def _running_agent_status(port: int) -> dict | None:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status", timeout=1.0) as response:
            return json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError):
        return None
