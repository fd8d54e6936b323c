"""Power Platform environments and regions: `dualwrite platform …`."""

from __future__ import annotations

from typing import Annotated

import typer

from dualwrite.cli._context import current
from dualwrite.cli._output import JsonOption, show
from dualwrite.platform import environments as platform
from dualwrite.schemas import PlatformEnvironmentRead, RegionRead

app = typer.Typer(help="Power Platform environments, Dataverse, regions.", no_args_is_help=True)
env_app = typer.Typer(help="Power Platform environments of your tenant.", no_args_is_help=True)
app.add_typer(env_app, name="env")
COLUMNS = ("name", "id", "geography", "dataverse", "initial", "fo_environment", "admins")


@env_app.command("list")
def list_(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """List your tenant's Power Platform environments."""
    with current(ctx).work() as (session, actor):
        rows = [PlatformEnvironmentRead.of(e) for e in platform.list_environments(session, actor)]
    show(rows, as_json, COLUMNS)


@env_app.command("show")
def show_(ctx: typer.Context, env: str, as_json: JsonOption = False) -> None:
    """Show an environment by name or ID."""
    with current(ctx).work() as (session, actor):
        row = PlatformEnvironmentRead.of(platform.get_environment(session, actor, env))
    show(row, as_json)


@env_app.command()
def create(
    ctx: typer.Context,
    name: str,
    region: Annotated[str, typer.Option(help="Azure region; decides the geography.")] = "West US",
    dataverse: Annotated[bool, typer.Option(help="With a Dataverse data store (1 GB).")] = True,
    database_url: Annotated[
        str | None, typer.Option(help="Empty or existing Dataverse database; default: SQLite.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Create a Power Platform environment; you become its System Administrator."""
    context = current(ctx)
    with context.work() as (session, actor):
        env = platform.create_environment(
            session,
            context.settings,
            actor,
            name=name,
            region=region,
            dataverse=dataverse,
            dataverse_url=database_url,
        )
        row = PlatformEnvironmentRead.of(env)
    show(row, as_json)


@env_app.command("add-admin")
def add_admin(ctx: typer.Context, env: str, upn: str, as_json: JsonOption = False) -> None:
    """Give a user the System Administrator role in the environment's Dataverse."""
    with current(ctx).work() as (session, actor):
        found = platform.get_environment(session, actor, env)
        row = PlatformEnvironmentRead.of(platform.add_admin(session, actor, found, upn))
    show(row, as_json)


@app.command()
def regions(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """List Azure regions and their Power Platform geography."""
    with current(ctx).work() as (session, _actor):
        rows = [RegionRead.model_validate(r) for r in platform.regions(session)]
    show(rows, as_json, ("name", "geography"))
