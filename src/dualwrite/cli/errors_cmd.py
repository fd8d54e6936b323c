"""The error log of a link's maps: `dualwrite errors list|retry|discard`."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from dualwrite.cli._context import current
from dualwrite.cli._output import JsonOption, cell, done, print_json, show, table_console
from dualwrite.lifecycle import environments
from dualwrite.link import links, overview, tablemaps
from dualwrite.ops.errorlog import inspect_error
from dualwrite.schemas import SyncErrorDetail

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


def _value(value: Any) -> Text:
    return Text("—", style="dim") if value is None else Text(str(value))


HEAD = (
    "id",
    "map_name",
    "direction",
    "status",
    "reason",
    "attempts",
    "created_at",
    "updated_at",
    "source_store",
    "source_table",
    "source_key",
    "source_note",
    "target_store",
    "target_table",
    "target_key",
    "target_note",
    "payload",
)


def _print_detail(detail: SyncErrorDetail) -> None:
    data = detail.model_dump(mode="json")
    head = Table(title=f"Error {detail.id}", show_header=False, box=None)
    head.add_column(style="bold", no_wrap=True)
    head.add_column(overflow="fold")
    for key in HEAD:
        if data[key] not in (None, ""):
            head.add_row(key.replace("_", " "), Text(cell(data[key])))
    table_console().print(head)
    table = Table(title="Field by field (≠: the target differs from what the map would write)")
    for column in ("", "kind", "source column", "target column", "source", "would write"):
        table.add_column(column, overflow="fold")
    table.add_column("target now", overflow="fold")
    table.add_column("note", overflow="fold")
    for f in detail.fields:
        table.add_row(
            Text("≠", style="bold red") if f.differs else Text(""),
            Text(f.kind),
            Text(f.source_column),
            Text(f.target_column),
            _value(f.source_value),
            _value(f.would_write) if f.written else Text("not written", style="dim"),
            _value(f.target_value),
            Text(f.note),
        )
    table_console().print(table)


@app.command("show")
def show_(
    ctx: typer.Context,
    env: str,
    error_id: Annotated[int, typer.Argument(metavar="ID", help="The error's ID (errors list).")],
    direction: Annotated[
        str | None,
        typer.Option(help="fo_to_dv or dv_to_fo, when the ID exists in both directions."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Inspect one error: its reason and payload, the source and target records as they are
    now, and field by field what the map would write and what the target holds."""
    with current(ctx).work() as (session, actor):
        link = links.get_link(session, environments.get_environment(session, actor, env))
        detail = inspect_error(link, error_id, direction)
    if as_json:
        print_json(detail)
    else:
        _print_detail(detail)


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
