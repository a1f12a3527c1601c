"""``amadeus agent``, ``amadeus sync`` and ``amadeus status``: the instrument next to your DAW.

The studios it syncs from are registered with ``amadeus studio add`` (:mod:`.studios`). Errors
(unreachable studio, refused token, corrupt download, full disk) surface as one clear line from
the CLI's main (exit code 2).
"""

from __future__ import annotations

import json
import time
from typing import Annotated, Optional

import typer

from instrument_agent.cli.options import JsonOpt
from instrument_agent.cli.output import console, err_console, progress_bar

__all__ = ["PANEL", "register"]

PANEL = "Agent"

_AGENT_HELP = """Run the instrument agent next to your DAW, with its web UI.

It plays the personality it last synced (no network needed), syncs newer ones from the
selected studio in the background (and hot-swaps to them without an audio dropout), opens
the virtual MIDI port [bold]Amadeus <deu>[/bold] for your DAW, and serves the UI on
http://127.0.0.1:PORT/ with three tabs: Practice, Play and Repair. Ctrl-C stops it.

[bold]Hear it learn[/bold]: while a practice it started trains, it plays the practice's previews
(the personality-in-training, every preview_every steps, crossfaded in without a click) and then
the new version; --follow-practice ID (or an embedded practice's work directory) follows another.

    amadeus studio add home localhost:50051 --token $AMADEUS_TOKEN
    amadeus agent --ui-port 8765"""


def agent_command(
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
    follow_practice: Annotated[
        Optional[str],
        typer.Option(
            "--follow-practice",
            help="Hear it learn: play the previews of this practice (an id on the selected studio, or an "
            "embedded practice's work directory) while it trains; its version replaces them when it publishes. "
            "Practices started from the UI are followed anyway.",
        ),
    ] = None,
) -> None:
    from instrument_agent.agent import Agent, AgentServer

    service = Agent(audio=not no_audio, midi=not no_midi, audio_backend=audio_backend)
    port = ui_port if ui_port is not None else service.state.load().settings.ui_port
    try:
        server = AgentServer(service, port)
    except OSError as exc:
        raise typer.BadParameter(
            f"port {port} is not free ({exc.strerror}); pass another --ui-port", param_hint="--ui-port"
        ) from None
    service.start()
    if follow_practice:
        try:
            service.follow(follow_practice)
        except Exception as exc:  # noqa: BLE001 - the sentence the client or the studio gave
            service.stop()
            err_console.print(f"[red]error:[/red] --follow-practice {follow_practice}: {exc}")
            raise typer.Exit(2) from None
    url = server.start()
    status = service.status()
    playing = status["player"]["playing"]
    err_console.print(f"[bold]Amadeus agent[/bold] on [link={url}]{url}[/link]")
    playing_text = f"{playing['deu']} v{playing['version']}" if playing else "nothing yet (sync or practise first)"
    err_console.print(f"  playing : {playing_text}")
    err_console.print(f"  audio   : {status['player']['audio']}")
    err_console.print(f"  MIDI    : {status['player']['midi']}")
    err_console.print(f"  studio  : {status['studio'] or 'none registered (amadeus studio add NAME HOST:PORT)'}")
    if open_browser:
        import webbrowser

        webbrowser.open(url)
    last, warned = "", set()
    try:
        while True:
            time.sleep(1.0)
            status = service.status()
            line = (
                f"{status['connection']} · {status['practice']}"
                + _playing_line(status)
                + (f" · {status['error']}" if status["error"] else "")
            )
            if line != last:
                err_console.print(f"[dim]{time.strftime('%H:%M:%S')}[/dim] {line}")
                last = line
            warned = _say_coverage_warnings(status["player"].get("coverage"), warned)
    except KeyboardInterrupt:
        err_console.print("stopping…")
    finally:
        server.stop()
        service.stop()


def _say_coverage_warnings(coverage: dict | None, warned: set) -> set:
    """Print the coverage warnings (notes outside the practice, once per phrase and kind) not printed yet."""
    for warning in (coverage or {}).get("warnings", []):
        key = (warning["phrase"], warning["kind"], warning["time_s"])
        if key not in warned:
            err_console.print(f"[dim]{time.strftime('%H:%M:%S')}[/dim] [yellow]warning:[/yellow] {warning['message']}")
            warned = warned | {key}
    return warned


def sync_command(
    deu: Annotated[
        Optional[str], typer.Option("--deu", help="Only this deu (default: every deu you have in the studio).")
    ] = None,
) -> None:
    """Download each deu's champion (the newest version when none was promoted) from the selected
    studio and switch to it.

    Resumable and verified by digest; older versions stay in the local store.

    The studio's champion becomes the local champion too: what `amadeus play` plays without --version."""
    from rich.progress import BarColumn, DownloadColumn, TaskID, TextColumn, TransferSpeedColumn

    from instrument_agent.client.sync import Syncer

    tasks: dict[str, TaskID] = {}
    with progress_bar(
        TextColumn("[bold]{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn()
    ) as bar:

        def progress(name: str, done: int, total: int) -> None:
            if name not in tasks:
                tasks[name] = bar.add_task(name, total=total, completed=done)
            bar.update(tasks[name], completed=done, total=total)

        report = Syncer().sync(deu, progress=progress)
    if not report.deus:
        console.print(f"studio {report.studio!r} has no personalities for you yet")
    for row in report.deus:
        extra = f" (resumed at {row.resumed_from} bytes)" if row.resumed_from else ""
        console.print(f"{row.deu} v{row.version}: {row.action}{extra}")


def status_command(as_json: JsonOpt = False) -> None:
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
        console.print_json(json.dumps(payload))
        return
    running = (
        f"running on http://127.0.0.1:{loaded.settings.ui_port}/" if live else "not running (start it: amadeus agent)"
    )
    console.print(f"agent    : {running}")
    console.print(
        f"studio   : {loaded.selected_studio or 'none registered'}" + (f" ({live['connection']})" if live else "")
    )
    if live:
        console.print(f"practice : {live['practice']}")
        for row in live["practices"]:
            console.print(f"  {row['deu']} {row['type']} {row['phase']} {row['stage']} {100 * row['progress']:.0f}%")
        if live["error"]:
            console.print(f"[red]problem[/red]  : {live['error']}")
    for deu, current in sorted(loaded.current.items()):
        marker = "▶" if deu == loaded.selected_deu else " "
        console.print(f"{marker} {deu} v{current.version} {current.digest[:12]} from {current.studio or 'local'}")
    if not loaded.current:
        console.print("no personality synced yet: amadeus sync")


def _playing_line(status: dict) -> str:
    """`` · playing cello preview step 50`` while a practice's preview plays (nothing otherwise)."""
    playing = status["player"]["playing"]
    if not playing or not playing.get("preview_step"):
        return ""
    return f" · playing {playing['deu']} {playing['label']}"


def _running_agent_status(port: int) -> dict | None:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status", timeout=1.0) as response:
            return json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError):
        return None


def register(app: typer.Typer) -> None:
    """Add ``agent``, ``sync`` and ``status`` to the ``amadeus`` app."""
    app.command("agent", help=_AGENT_HELP, rich_help_panel=PANEL)(agent_command)
    app.command("sync", rich_help_panel=PANEL)(sync_command)
    app.command("status", rich_help_panel=PANEL)(status_command)
