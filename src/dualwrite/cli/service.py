"""The data integration service (sync worker): `dualwrite service status|restart`."""

from __future__ import annotations

import typer

from dualwrite.cli._context import current
from dualwrite.cli._output import JsonOption, done, show
from dualwrite.ops import health
from dualwrite.schemas import ServiceHealthRead

app = typer.Typer(help="The sync worker (data integration service).", no_args_is_help=True)


@app.command()
def status(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Is the sync worker running? Exit 1 when it is not."""
    with current(ctx).work() as (session, _actor):
        found = ServiceHealthRead(**health.service_health(session).__dict__)
    show(found, as_json)
    if not found.running:
        raise typer.Exit(1)


@app.command()
def restart(ctx: typer.Context) -> None:
    """Restart the sync worker after its current pass (installation operators)."""
    with current(ctx).work() as (session, actor):
        health.request_restart(session, actor)
    done("Restart requested; the supervisor in `dualwrite serve` / `dualwrite worker` does it.")
