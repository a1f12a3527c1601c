"""The studios this instrument knows: ``amadeus studio add | studios | select | remove``.

A registration (name, address, TLS, CA, token; kept in the agent state) is what ``sync``,
``status`` and the agent use, and what every ``amadeus studio`` client command talks to when
no ``--studio`` is given (:func:`resolve_studio`). ``amadeus studios add|list|select|remove``,
the old spelling, stays as a hidden alias.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from instrument_agent.cli.groups import studio_group
from instrument_agent.cli.options import CaOpt, JsonOpt, TlsOpt, TokenOpt
from instrument_agent.cli.output import console, fail

if TYPE_CHECKING:
    from instrument_agent.client.studio_client import StudioClient

__all__ = ["DEFAULT_ADDRESS", "PANEL", "StudioTarget", "register", "resolve_studio"]

DEFAULT_ADDRESS = "localhost:50051"
PANEL = "Your studios"


@dataclass(frozen=True)
class StudioTarget:
    """The studio a client command connects to. ``name`` is the registration's ("" for a bare address)."""

    address: str
    token: str | None = None
    tls: bool = False
    root_certificates: Path | None = None
    name: str = ""

    def client(self, timeout: float | None = 60.0) -> StudioClient:
        """A :class:`~instrument_agent.client.studio_client.StudioClient` for it (grpc loads here)."""
        from instrument_agent.client.studio_client import StudioClient

        return StudioClient(
            self.address, token=self.token, tls=self.tls, root_certificates=self.root_certificates, timeout=timeout
        )

    @contextmanager
    def session(self, *also: type[Exception]) -> Iterator[StudioClient]:
        """One command's :meth:`client`, closed on the way out: a ``StudioClientError`` (or one of
        ``also``) raised inside ends the command with its one-line message (:func:`fail`, exit 2)."""
        from instrument_agent.client.studio_client import StudioClientError

        try:
            with self.client() as client:
                yield client
        except (StudioClientError, *also) as exc:
            fail(exc)


def resolve_studio(
    studio: str | None,
    token: str | None = None,
    *,
    tls: bool = False,
    ca: Path | None = None,
    home: str | Path | None = None,
) -> StudioTarget:
    """The studio named by ``--studio`` (a registered name or ``HOST:PORT``), else the selected
    registration, else :data:`DEFAULT_ADDRESS`. ``--token`` / ``--tls`` / ``--ca`` win over the
    registration's. Raises :class:`typer.BadParameter` for a name that is neither registered nor
    an address. ``home`` is the agent state's (default: the Amadeus home)."""
    from instrument_agent.agent.state import AgentState

    state = AgentState(home).load()
    wanted = studio or state.selected_studio
    registration = next((s for s in state.studios if s.name == wanted), None) if wanted else None
    if registration is None:
        if studio and ":" not in studio:
            known = ", ".join(s.name for s in state.studios) or "none"
            raise typer.BadParameter(
                f"{studio!r} is neither a registered studio (registered: {known}) nor a HOST:PORT",
                param_hint="--studio",
            )
        return StudioTarget(studio or DEFAULT_ADDRESS, token, tls or ca is not None, ca)
    root = ca or (Path(registration.root_certificate_path) if registration.root_certificate_path else None)
    return StudioTarget(
        registration.address,
        token or registration.token or None,
        tls or registration.tls or root is not None,
        root,
        registration.name,
    )


def add(
    name: Annotated[str, typer.Argument(help="A short name for the studio, e.g. home.", show_default=False)],
    address: Annotated[str, typer.Argument(help="HOST:PORT of its gRPC endpoint.", show_default=False)],
    token: TokenOpt = None,
    tls: TlsOpt = False,
    root_cert: CaOpt = None,
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
        console.print(f"studio {name!r} answers: {count} personality version{'s' if count != 1 else ''} for you")
    state = AgentState().add_studio(
        name, address, tls=tls, token=token or "", root_certificate_path=str(root_cert or ""), select=select
    )
    console.print(f"registered {name!r} ({address}){'; selected' if state.selected_studio == name else ''}")


def studios(as_json: JsonOpt = False) -> None:
    """The studios you registered; * marks the selected one (sync, status and the studio commands use it)."""
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
        console.print_json(json.dumps(rows))
        return
    if not rows:
        console.print("No studios registered. Add one: amadeus studio add NAME HOST:PORT [--token ...]")
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
    console.print(table)


def select(name: Annotated[str, typer.Argument(help="A registered studio.", show_default=False)]) -> None:
    """Sync from, practise with and download from this studio from now on."""
    from instrument_agent.agent.state import AgentState

    AgentState().select_studio(name)
    console.print(f"selected {name!r}")


def remove(name: Annotated[str, typer.Argument(help="A registered studio.", show_default=False)]) -> None:
    """Forget a studio (personalities synced from it stay in the local store)."""
    from instrument_agent.agent.state import AgentState

    state = AgentState().remove_studio(name)
    console.print(
        f"removed {name!r}" + (f"; selected is now {state.selected_studio!r}" if state.selected_studio else "")
    )


def register(app: typer.Typer) -> None:
    """Add ``studio add|studios|select|remove`` (into the ``studio`` group) and the hidden
    ``studios add|list|select|remove`` alias to the ``amadeus`` app."""
    group = studio_group(app)
    for name, command in (("add", add), ("studios", studios), ("select", select), ("remove", remove)):
        group.command(name, rich_help_panel=PANEL)(command)
    alias = typer.Typer(help="Old spelling of amadeus studio add | studios | select | remove.", no_args_is_help=True)
    for name, command in (("add", add), ("list", studios), ("select", select), ("remove", remove)):
        alias.command(name)(command)
    app.add_typer(alias, name="studios", hidden=True)
