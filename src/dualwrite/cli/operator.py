"""Installation operators, above every tenant: `dualwrite operator list|grant|revoke`."""

from __future__ import annotations

import typer

from dualwrite.cli._context import current
from dualwrite.cli._output import JsonOption, done, show
from dualwrite.installation import operators
from dualwrite.schemas import UserRead

app = typer.Typer(
    help="Installation operators: they create tenants, name where data stores live and "
    "restart the shared sync worker. A tenant's Global administrator governs only that tenant.",
    no_args_is_help=True,
)
COLUMNS = ("upn", "display_name", "tenant")


@app.command("list")
def list_(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """List the installation operators (operators only)."""
    with current(ctx).work() as (session, actor):
        rows = [UserRead.of(u) for u in operators.list_operators(session, actor)]
    show(rows, as_json, COLUMNS)


@app.command()
def grant(ctx: typer.Context, upn: str) -> None:
    """Make a user an installation operator (operators only)."""
    with current(ctx).work() as (session, actor):
        user = operators.grant_operator(session, actor, upn)
    done(f"{user.upn} is an installation operator.")


@app.command()
def revoke(ctx: typer.Context, upn: str) -> None:
    """Take the installation operator role from a user (never the last one)."""
    with current(ctx).work() as (session, actor):
        user = operators.revoke_operator(session, actor, upn)
    done(f"{user.upn} is no longer an installation operator.")
