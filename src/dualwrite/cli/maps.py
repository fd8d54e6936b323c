"""Table maps of a link: `dualwrite maps list|show|run|pause|resume|stop|force-stop|activity|
fields|field|transform`."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from dualwrite.cli._context import Context, current
from dualwrite.cli._output import JsonOption, console, done, print_json, print_table, show
from dualwrite.cli._progress import progress_bars
from dualwrite.engine.states import MapState
from dualwrite.errors import ERR
from dualwrite.lifecycle import environments
from dualwrite.link import fieldmappings, links, overview, tablemaps
from dualwrite.ops import alerts, initialsync
from dualwrite.ops.activity import ActivityFilter, list_activity
from dualwrite.schemas import (
    NO_MAPS_NOTICE,
    ActivityRead,
    AlertRead,
    TableMapRead,
    TransformWrite,
)

app = typer.Typer(
    help="Table maps: status, run with initial sync, pause, resume, stop.", no_args_is_help=True
)
COLUMNS = ("name", "state", "directions", "progress_done", "progress_total", "queued", "last_error")
Names = Annotated[
    list[str], typer.Argument(help="Table map names, e.g. 'Customers V3 (accounts)'.")
]


def _maps(context: Context, env: str) -> list[TableMapRead]:
    with context.work() as (session, actor):
        link = links.get_link(session, environments.get_environment(session, actor, env))
        return overview.describe_maps(link)


@app.command("list")
def list_(ctx: typer.Context, env: str, as_json: JsonOption = False) -> None:
    """List the link's table maps with state, initial sync progress and queued changes."""
    rows = _maps(current(ctx), env)
    if not rows and not as_json:
        console.print(f"{NO_MAPS_NOTICE} `dualwrite link apply-solution {env}`")
    show(rows, as_json, COLUMNS)


@app.command("show")
def show_(ctx: typer.Context, env: str, name: str, as_json: JsonOption = False) -> None:
    """Show one table map."""
    row = next((m for m in _maps(current(ctx), env) if m.name == name), None)
    if row is None:
        raise ERR.NO_MAPS.error(name=name)
    show(row, as_json)


def _act(ctx: typer.Context, env: str, names: list[str], verb: str) -> None:
    with current(ctx).work() as (session, actor):
        link = links.get_link(session, environments.get_environment(session, actor, env))
        operation = {
            "pause": tablemaps.pause_maps,
            "resume": tablemaps.resume_maps,
            "stop": tablemaps.stop_maps,
        }[verb]
        operation(session, actor, link, names)
    done(f"{verb.capitalize()}: {', '.join(names)}.")


@app.command()
def run(
    ctx: typer.Context,
    env: str,
    names: Names,
    initial_sync: Annotated[bool, typer.Option(help="Copy existing records first.")] = False,
    master: Annotated[str, typer.Option(help="Initial sync source: fo or dataverse.")] = "fo",
    wait: Annotated[bool, typer.Option(help="Show progress until the maps are Running.")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds to wait at most.")] = 3600,
) -> None:
    """Run maps (and the not-running maps they look up, first); the worker does the work."""
    context = current(ctx)
    with context.work() as (session, actor):
        link = links.get_link(session, environments.get_environment(session, actor, env))
        started = [
            m.name
            for m in tablemaps.run_maps(
                session, actor, link, names, initial_sync=initial_sync, master=master
            )
        ]
    done(f"Initializing: {', '.join(started)}.")
    if wait:
        _wait_running(context, env, started, timeout)


def _wait_running(context: Context, env: str, names: list[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    with progress_bars() as progress:
        while True:
            rows = {m.name: m for m in _maps(context, env) if m.name in names}
            for row in rows.values():
                total = row.progress_total or (1 if row.state == MapState.RUNNING else 0)
                progress(row.name, row.progress_done or int(row.state == MapState.RUNNING), total)
            if all(r.state == MapState.RUNNING for r in rows.values()):
                return
            if time.monotonic() > deadline:
                raise ERR.WORKER_TIMEOUT.error(seconds=int(timeout))
            time.sleep(0.5)


@app.command()
def queue(
    ctx: typer.Context,
    env: str,
    name: str,
    after: Annotated[int | None, typer.Option(help="Last position seen: the next page.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    as_json: JsonOption = False,
) -> None:
    """List a paused map's queued changes page by page (oldest first)."""
    with current(ctx).work() as (session, actor):
        link = links.get_link(session, environments.get_environment(session, actor, env))
        rows = overview.queued_records(link, name, after, limit)
    show(rows, as_json, ("position", "direction", "operation", "key", "captured_at"))


@app.command()
def limits(
    ctx: typer.Context,
    env: str,
    name: str,
    max_age_seconds: Annotated[int | None, typer.Option(min=1)] = None,
    max_bytes: Annotated[int | None, typer.Option(min=1)] = None,
) -> None:
    """Queue limits of a paused map (default 1 day, 1 GB): past them, writes are refused."""
    with current(ctx).work() as (session, actor):
        link = links.get_link(session, environments.get_environment(session, actor, env))
        state = tablemaps.set_queue_limits(
            session, actor, link, name, max_age_seconds=max_age_seconds, max_bytes=max_bytes
        )
        age, size = state.queue_max_age_seconds, state.queue_max_bytes
    done(f"{name}: queue limits {age} s, {size} bytes.")


@app.command()
def mode(
    ctx: typer.Context,
    env: str,
    name: str,
    synchronous: Annotated[
        bool,
        typer.Option(
            "--synchronous/--asynchronous",
            help="Writes through the environment APIs commit only with their mapped write "
            "(default), or the sync worker applies them afterwards.",
        ),
    ],
) -> None:
    """How a map syncs writes made through the environment APIs."""
    with current(ctx).work() as (session, actor):
        link = links.get_link(session, environments.get_environment(session, actor, env))
        tablemaps.set_sync_mode(session, actor, link, name, synchronous=synchronous)
    done(f"{name}: {'synchronous' if synchronous else 'asynchronous'} live sync of API writes.")


@app.command()
def pause(ctx: typer.Context, env: str, names: Names) -> None:
    """Pause running maps: changes keep being captured and queue up."""
    _act(ctx, env, names, "pause")


@app.command()
def resume(ctx: typer.Context, env: str, names: Names) -> None:
    """Resume paused maps: the queue plays back, then they are Running again."""
    _act(ctx, env, names, "resume")


@app.command()
def stop(ctx: typer.Context, env: str, names: Names) -> None:
    """Stop maps (Not running)."""
    _act(ctx, env, names, "stop")


@app.command("force-stop")
def force_stop(
    ctx: typer.Context,
    env: str,
    names: Names,
    reason: Annotated[str, typer.Option(help="Why; kept in the activity log.")] = "",
) -> None:
    """Mark maps Not running without reaching the other side, e.g. while the Dataverse is
    unavailable (tenant admins; logged). What seed 002 needed a support ticket for."""
    with current(ctx).work() as (session, actor):
        link = links.get_link(session, environments.get_environment(session, actor, env))
        tablemaps.force_not_running(session, actor, link, names, reason)
    done(f"{len(names)} table map(s) forced to Not running.")


@app.command()
def activity(
    ctx: typer.Context,
    env: str,
    map: Annotated[str | None, typer.Option("--map", help="Only this table map.")] = None,
    kind: Annotated[
        str | None,
        typer.Option(
            help="state, initial sync, retry, configuration, forced, alert, discard or "
            "availability."
        ),
    ] = None,
    by: Annotated[str | None, typer.Option(help="Only this user's (or 'sync worker').")] = None,
    before: Annotated[int | None, typer.Option(help="Entries older than this id (paging).")] = None,
    limit: Annotated[int, typer.Option(min=1, max=200)] = 50,
    as_json: JsonOption = False,
) -> None:
    """The activity log, newest first: who changed which map, when, and how."""
    wanted = ActivityFilter(map_name=map, kind=kind, actor=by, before=before, limit=limit)
    with current(ctx).work() as (session, actor):
        fo_env = environments.get_environment(session, actor, env)
        rows = [ActivityRead.model_validate(e) for e in list_activity(session, fo_env, wanted)]
    show(rows, as_json, ("id", "at", "actor_label", "kind", "map_name", "message"))


@app.command("alert")
def alert(
    ctx: typer.Context,
    env: str,
    name: str,
    max_errors: Annotated[int, typer.Option(min=1, help="Errors within the window that fire.")],
    window: Annotated[int, typer.Option(min=1, help="The window, in minutes.")] = 10,
    action: Annotated[str, typer.Option(help="notify, pause or stop.")] = "notify",
    remove: Annotated[bool, typer.Option("--remove", help="Remove the map's alert.")] = False,
) -> None:
    """Alert settings: N errors within T minutes → notify, pause or stop the map (logged)."""
    with current(ctx).work() as (session, actor):
        link = links.get_link(session, environments.get_environment(session, actor, env))
        if remove:
            alerts.remove_alert(session, actor, link, name)
        else:
            alerts.set_alert(
                session,
                actor,
                link,
                name,
                max_errors=max_errors,
                window_minutes=window,
                action=action,
            )
    done(
        "Alert removed."
        if remove
        else f"Alert set: {max_errors} errors within {window} min → {action}."
    )


@app.command("alerts")
def alerts_(ctx: typer.Context, env: str, as_json: JsonOption = False) -> None:
    """The link's alert settings and when each last fired."""
    with current(ctx).work() as (session, actor):
        link = links.get_link(session, environments.get_environment(session, actor, env))
        rows = [AlertRead.model_validate(a) for a in alerts.alerts_of(session, link)]
    show(rows, as_json, ("map_name", "max_errors", "window_minutes", "action", "last_fired_at"))


@app.command("field")
def field(
    ctx: typer.Context,
    env: str,
    name: str,
    dataverse_field: Annotated[str, typer.Option("--field", help="The Dataverse column.")],
    direction: Annotated[str, typer.Option(help="fo_to_dv, dv_to_fo or both.")],
) -> None:
    """Change a field mapping's direction on this link (the map must be Not running)."""
    with current(ctx).work() as (session, actor):
        link = links.get_link(session, environments.get_environment(session, actor, env))
        fieldmappings.set_field_direction(session, actor, link, name, dataverse_field, direction)
    done(f"{name}: {dataverse_field} is now {direction}. Run the map again to use it.")


@app.command("fields")
def fields(ctx: typer.Context, env: str, name: str, as_json: JsonOption = False) -> None:
    """Every mapping of a map as this link syncs it, with directions and transforms."""
    with current(ctx).work() as (session, actor):
        link = links.get_link(session, environments.get_environment(session, actor, env))
        rows = fieldmappings.field_mappings(link, name)
    show(rows, as_json, ("fo", "dataverse", "kind", "direction", "transform", "edited"))


@app.command("transform")
def transform(
    ctx: typer.Context,
    env: str,
    name: str,
    dataverse_field: Annotated[str, typer.Option("--field", help="The Dataverse column.")],
    default: Annotated[
        str | None, typer.Option(help="Written when the source value is missing.")
    ] = None,
    value: Annotated[
        list[str] | None,
        typer.Option(help="A value map pair FO=DATAVERSE, e.g. Yes=true; repeat for each."),
    ] = None,
    otherwise_dataverse: Annotated[
        str | None, typer.Option(help="Dataverse value for F&O values not in the pairs.")
    ] = None,
    otherwise_fo: Annotated[
        str | None, typer.Option(help="F&O value for Dataverse values not in the pairs.")
    ] = None,
    reset: Annotated[bool, typer.Option(help="Go back to the solution's transform.")] = False,
) -> None:
    """Replace a field's transform (default and value map) on this link; what is left out is
    removed. The map must be Not running."""
    body = None
    if not reset:
        body = TransformWrite(
            default=default,
            value_map=[fieldmappings.parse_pair(v, "--value") for v in value or []],
            unmatched_dataverse=otherwise_dataverse,
            unmatched_fo=otherwise_fo,
        )
    with current(ctx).work() as (session, actor):
        link = links.get_link(session, environments.get_environment(session, actor, env))
        fieldmappings.set_field_transform(session, actor, link, name, dataverse_field, body)
        row = next(
            r for r in fieldmappings.field_mappings(link, name) if r.dataverse == dataverse_field
        )
    done(f"{name}: {dataverse_field} → {row.transform or 'no transform'}. Run the map again.")


@app.command("initial-sync")
def initial_sync(
    ctx: typer.Context,
    env: str,
    name: str,
    rerun: Annotated[
        bool, typer.Option("--rerun", help="Re-run execution: retry only the failed records.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Initial sync executions of a map (rows read, written, failed) and the failed records."""
    with current(ctx).work() as (session, actor):
        link = links.get_link(session, environments.get_environment(session, actor, env))
        if rerun:
            result = initialsync.rerun_execution(session, actor, link, name)
        detail = initialsync.initial_sync_read(session, link, name)
    if rerun:
        done(f"Re-run: {result.fixed} fixed, {result.still_failing} still failing.")
    if as_json:
        print_json(detail)
        return
    print_table(
        detail.runs,
        ("id", "master", "started_at", "finished_at", "read", "written", "failed", "error"),
    )
    print_table(
        detail.failed_records,
        ("id", "direction", "source_key", "reason", "attempts"),
        title="Failed records",
    )
