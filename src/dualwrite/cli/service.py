"""The data integration service (sync worker): `dualwrite service status|restart`."""

from __future__ import annotations

import typer
from pydantic import BaseModel

from dualwrite.cli._context import current
from dualwrite.cli._output import JsonOption, done, show
from dualwrite.ops import health, workers
from dualwrite.schemas import ServiceHealthRead, WorkerRead

app = typer.Typer(help="The sync worker (data integration service).", no_args_is_help=True)


@app.command()
def status(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Is the sync worker running? Exit 1 when it is not."""
    with current(ctx).work() as (session, _actor):
        found = ServiceHealthRead(**health.service_health(session).__dict__)
    show(found, as_json)
    if not found.running:
        raise typer.Exit(1)


def workers_command(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """The workers sharing the maps over a stream: host, heartbeat age, what each leases and
    how many changes wait there (installation operators)."""
    with current(ctx).work() as (session, actor):
        rows = [
            WorkerRead.model_validate(w, from_attributes=True)
            for w in workers.list_workers(session, actor)
        ]
    if as_json:
        show(rows, as_json)
        return
    if not rows:
        done("No worker shares the maps (start them with `dualwrite worker --stream nats://…`).")
        return
    table = [
        _WorkerRow(
            worker=w.id,
            host=w.host,
            heartbeat=f"{w.heartbeat_age_seconds:g} s ago" + ("" if w.alive else " (gone)"),
            leases="\n".join(
                f"{lease.environment} / {lease.map_name} {lease.direction}: "
                f"{'?' if lease.queued is None else lease.queued} waiting"
                for lease in w.leases
            )
            or "none",
        )
        for w in rows
    ]
    show(table, False, ("worker", "host", "heartbeat", "leases"))


class _WorkerRow(BaseModel):
    worker: str
    host: str
    heartbeat: str
    leases: str


@app.command()
def restart(ctx: typer.Context) -> None:
    """Restart the sync worker after its current pass (installation operators)."""
    with current(ctx).work() as (session, actor):
        health.request_restart(session, actor)
    done("Restart requested; the supervisor in `dualwrite serve` / `dualwrite worker` does it.")
