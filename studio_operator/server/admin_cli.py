"""``amadeus studio amas | token | usage``: manage a studio's tenants and bill them, in its database.

These commands read and write the tenancy database directly (``--database``, else
``$AMADEUS_DATABASE_URL``, else ``sqlite:///<home>/studio.db``): they are the operator's, not an
ama's; a running studio sees every change within its ``auth_refresh_s`` (no restart).

    amadeus studio amas add ALICE [--plan studio]      amadeus studio token issue ALICE [--days 90]
    amadeus studio amas list                            amadeus studio token rotate ALICE
    amadeus studio amas disable ALICE [--enable]        amadeus studio token revoke ALICE [--token T]
    amadeus studio amas plan ALICE PLAN                 amadeus studio usage [--ama A] [--month YYYY-MM] [--csv]
    amadeus studio amas import tokens.yaml [--plan P]

``amadeus studio token ALICE --tokens tokens.yaml`` (a hash appended to a tokens file) still works:
it is the ``token file`` command; ``serve --tokens`` imports such a file.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer
from typer.core import TyperGroup

from instrument_agent.cli.output import console, fail

if TYPE_CHECKING:
    from studio_operator.server.tenancy import AccountStore, Ledger

__all__ = ["DatabaseOpt", "amas_app", "token_app", "usage_command"]

DatabaseOpt = Annotated[
    Optional[str],
    typer.Option(
        "--database",
        envvar="AMADEUS_DATABASE_URL",
        help="Tenancy database URL (sqlite:///FILE or postgresql://...; default: <home>/studio.db).",
    ),
]
HomeOpt = Annotated[Optional[Path], typer.Option("--home", help="The studio home (default: $AMADEUS_HOME).")]
PlansOpt = Annotated[Optional[Path], typer.Option("--plans", help="Plans file (default: the packaged plans.yaml).")]
DaysOpt = Annotated[Optional[float], typer.Option(help="Expire after this many days.")]


def _open(database: str | None, home: Path | None, plans: Path | None = None) -> tuple[AccountStore, Ledger]:
    from instrument_agent.personality.home import amadeus_home
    from studio_operator.server.tenancy import AccountStore, Ledger, PlanBook, default_url, migrate, open_engine

    engine = open_engine(database or default_url(home or amadeus_home()))
    migrate(engine)
    return AccountStore(engine, PlanBook.load(plans)), Ledger(engine)


@contextmanager
def _accounts(database: str | None, home: Path | None, plans: Path | None = None) -> Iterator[AccountStore]:
    """The database's accounts for one command: a ``ValueError`` they raise inside (an unknown ama or
    plan, a taken name...) ends the command with its one-line message (:func:`fail`, exit 2)."""
    accounts, _ = _open(database, home, plans)
    try:
        yield accounts
    except ValueError as exc:
        fail(exc)


def _expiry(days: float | None) -> dt.datetime | None:
    return dt.datetime.now(dt.UTC) + dt.timedelta(days=days) if days else None


amas_app = typer.Typer(help="The studio's amas (tenants) and their plans, in its database.", no_args_is_help=True)


@amas_app.command("add")
def amas_add(
    ama: Annotated[str, typer.Argument(help="The new ama's name.")],
    plan: Annotated[Optional[str], typer.Option(help="Its plan (default: the plans file's default).")] = None,
    database: DatabaseOpt = None,
    home: HomeOpt = None,
    plans: PlansOpt = None,
) -> None:
    """Create an ama (then issue it a token: amadeus studio token issue AMA)."""
    with _accounts(database, home, plans) as accounts:
        accounts.add_ama(ama, plan)
    console.print(f"ama {ama} on plan {plan or accounts.plans.default}")


@amas_app.command("list")
def amas_list(database: DatabaseOpt = None, home: HomeOpt = None) -> None:
    """Every ama: plan, state, valid tokens."""
    from rich.table import Table

    accounts, _ = _open(database, home)
    table = Table("ama", "plan", "state", "tokens", "created")
    for row in accounts.list_amas():
        state = "disabled" if row.disabled else "active"
        table.add_row(row.name, row.plan, state, str(row.tokens), f"{row.created_at:%Y-%m-%d}")
    console.print(table)


@amas_app.command("disable")
def amas_disable(
    ama: Annotated[str, typer.Argument(help="The ama.")],
    enable: Annotated[bool, typer.Option("--enable", help="Enable it again instead.")] = False,
    database: DatabaseOpt = None,
    home: HomeOpt = None,
) -> None:
    """Disable an ama: its tokens stop working on every replica (its data and ledger stay)."""
    with _accounts(database, home) as accounts:
        accounts.set_disabled(ama, not enable)
    console.print(f"ama {ama} {'enabled' if enable else 'disabled'}")


@amas_app.command("plan")
def amas_plan(
    ama: Annotated[str, typer.Argument(help="The ama.")],
    plan: Annotated[str, typer.Argument(help="Its new plan.")],
    database: DatabaseOpt = None,
    home: HomeOpt = None,
    plans: PlansOpt = None,
) -> None:
    """Move an ama to another plan (the new limits apply to the next call)."""
    with _accounts(database, home, plans) as accounts:
        accounts.set_plan(ama, plan)
    console.print(f"ama {ama} on plan {plan}")


@amas_app.command("import")
def amas_import(
    tokens: Annotated[Path, typer.Argument(help="A tokens.yaml (ama + sha256 [+ expires] per token).")],
    plan: Annotated[Optional[str], typer.Option(help="Plan of the amas it creates (default: unlimited).")] = None,
    database: DatabaseOpt = None,
    home: HomeOpt = None,
    plans: PlansOpt = None,
) -> None:
    """Copy a tokens file into the database (the migration from tokens.yaml; idempotent)."""
    with _accounts(database, home, plans) as accounts:
        added = accounts.import_tokens_file(tokens, plan)
    console.print(f"imported {added} token(s) from {tokens}")


class _TokenGroup(TyperGroup):
    """``token ALICE --tokens FILE`` (the tokens-file command of earlier studios) means ``token file ...``."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and not args[0].startswith("-") and args[0] not in self.commands:
            args = ["file", *args]
        return super().parse_args(ctx, args)


token_app = typer.Typer(
    cls=_TokenGroup,
    help="Bearer tokens: issue, rotate, revoke (shown once; only the sha256 is kept).",
    no_args_is_help=True,
)


@token_app.command("issue")
def token_issue(
    ama: Annotated[str, typer.Argument(help="The ama.")],
    days: DaysOpt = None,
    database: DatabaseOpt = None,
    home: HomeOpt = None,
) -> None:
    """A new token for the ama (its other tokens stay valid); printed once."""
    with _accounts(database, home) as accounts:
        console.print(accounts.issue_token(ama, expires_at=_expiry(days)))


@token_app.command("rotate")
def token_rotate(
    ama: Annotated[str, typer.Argument(help="The ama.")],
    days: DaysOpt = None,
    database: DatabaseOpt = None,
    home: HomeOpt = None,
) -> None:
    """Revoke every token of the ama and issue a new one (printed once)."""
    with _accounts(database, home) as accounts:
        console.print(accounts.rotate_token(ama, expires_at=_expiry(days)))


@token_app.command("revoke")
def token_revoke(
    ama: Annotated[str, typer.Argument(help="The ama.")],
    token: Annotated[Optional[str], typer.Option(help="Only this token (default: all of the ama's).")] = None,
    database: DatabaseOpt = None,
    home: HomeOpt = None,
) -> None:
    """Revoke the ama's tokens (or one); every replica refuses them within its refresh interval."""
    with _accounts(database, home) as accounts:
        count = accounts.revoke(ama, token)
    console.print(f"revoked {count} token(s) of {ama}")


@token_app.command("file")
def token_file(
    ama: Annotated[str, typer.Argument(help="The ama (tenant) the token belongs to.")],
    tokens: Annotated[Path, typer.Option(help="Tokens file to add the token's hash to.")],
    days: DaysOpt = None,
) -> None:
    """Create a token and append its sha256 to a tokens file (import it with serve --tokens or amas import)."""
    from studio_operator.server.tenants import add_token

    try:
        console.print(add_token(tokens, ama, expires=_expiry(days)))
    except ValueError as exc:
        fail(exc)


def usage_command(
    ama: Annotated[Optional[str], typer.Option(help="One ama (default: all).")] = None,
    month: Annotated[Optional[str], typer.Option(help="YYYY-MM (UTC; default: the current month).")] = None,
    csv: Annotated[bool, typer.Option("--csv", help="CSV for billing instead of a table.")] = False,
    database: DatabaseOpt = None,
    home: HomeOpt = None,
) -> None:
    """The usage ledger's totals per ama, plan and meter in a month (seconds or bytes)."""
    import re
    import sys

    from studio_operator.server.tenancy import month_of

    month = month or month_of(dt.datetime.now(dt.UTC))
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
        fail(f"--month {month!r}: expected YYYY-MM")
    _, ledger = _open(database, home)
    rows = ledger.report(month, ama)
    if csv:
        import csv as csv_module

        writer = csv_module.writer(sys.stdout, lineterminator="\n")
        writer.writerow(["month", "ama", "plan", "meter", "quantity", "unit", "entries"])
        for r in rows:
            unit = "B" if r.meter.endswith("_bytes") else "s"
            writer.writerow([r.month, r.ama, r.plan, r.meter, f"{r.quantity:.3f}", unit, r.entries])
        return
    from rich.table import Table

    table = Table("ama", "plan", "meter", "quantity", "entries", title=f"usage {month}")
    for r in rows:
        table.add_row(r.ama or "(single user)", r.plan, r.meter, f"{r.quantity:,.1f}", str(r.entries))
    console.print(table)
