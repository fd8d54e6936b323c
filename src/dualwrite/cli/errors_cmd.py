"""The error log of a link's maps: `dualwrite errors list|retry|discard`."""

from __future__ import annotations

from typing import Annotated

import typer

from dualwrite.cli._context import current
from dualwrite.cli._output import JsonOption, done, show
from dualwrite.lifecycle import environments
from dualwrite.link import links, overview, tablemaps

app = typer.Typer(
    help="Records that could not be applied, and retrying them.", no_args_is_help=True
)
MapOption = Annotated[str | None, typer.Option("--map", help="Only this table map.")]


@app.command("list")
def list_(ctx: typer.Context, env: str, map: MapOption = None, as_json: JsonOption = False) -> None:
    """List open errors with the record's key and the reason."""
    with current(ctx).work() as (session, actor):
        link = links.get_link(session, environments.get_environment(session, actor, env))
        rows = overview.list_errors(link, map)
    show(rows, as_json, ("id", "map_name", "direction", "source_key", "reason", "attempts"))


@app.command()
def retry(
    ctx: typer.Context,
    env: str,
    map: Annotated[str, typer.Option("--map", help="The table map whose errors to retry.")],
    error_id: Annotated[int | None, typer.Option("--id", help="Only this error.")] = None,
) -> None:
    """Apply every open error's record (or one, with --id) again after fixing the cause."""
    with current(ctx).work() as (session, actor):
        link = links.get_link(session, environments.get_environment(session, actor, env))
        fixed, failing = tablemaps.retry_map_errors(session, actor, link, map, error_id)
    done(f"{fixed} fixed, {failing} still failing.")


@app.command()
def discard(
    ctx: typer.Context,
    env: str,
    map: Annotated[str, typer.Option("--map", help="The table map the error belongs to.")],
    error_id: Annotated[int, typer.Option("--id", help="The error to discard.")],
    reason: Annotated[str, typer.Option(help="Why; kept in the activity log.")] = "",
) -> None:
    """Give up on one record of the error log, with a reason (logged, never silent)."""
    with current(ctx).work() as (session, actor):
        link = links.get_link(session, environments.get_environment(session, actor, env))
        tablemaps.discard_error(session, actor, link, map, error_id, reason)
    done(f"Error {error_id} discarded; the reason is in `dualwrite maps activity {env}`.")
