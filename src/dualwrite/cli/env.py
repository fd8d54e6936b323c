"""Finance and operations environments: `dualwrite env …`."""

from __future__ import annotations

from typing import Annotated

import typer

from dualwrite.cli._context import current
from dualwrite.cli._output import JsonOption, done, show
from dualwrite.lifecycle import environments, projects
from dualwrite.lifecycle.details import environment_detail
from dualwrite.lifecycle.environments import DEFAULT_LEGAL_ENTITIES, EnvironmentSpec
from dualwrite.schemas import EnvironmentRead

app = typer.Typer(
    help="Finance and operations environments (Lifecycle Services).", no_args_is_help=True
)
COLUMNS = ("name", "project", "type", "region", "geography", "state", "data_store_url")


@app.command("list")
def list_(
    ctx: typer.Context,
    project: Annotated[str | None, typer.Option(help="Only this project's.")] = None,
    as_json: JsonOption = False,
) -> None:
    """List the environments of your projects."""
    with current(ctx).work() as (session, actor):
        scope = projects.get_project(session, actor, project) if project else None
        rows = [
            EnvironmentRead.of(e) for e in environments.list_environments(session, actor, scope)
        ]
    show(rows, as_json, COLUMNS)


@app.command("show")
def show_(ctx: typer.Context, name: str, as_json: JsonOption = False) -> None:
    """Show an environment with its legal entities and the row counts of its data store."""
    with current(ctx).work() as (session, actor):
        env = environments.get_environment(session, actor, name)
        detail = environment_detail(session, env)
    show(detail, as_json)


@app.command()
def create(
    ctx: typer.Context,
    name: str,
    project: Annotated[str, typer.Option(help="The LCS project it belongs to.")],
    type: Annotated[str, typer.Option(help="sandbox or production.")] = "sandbox",
    region: Annotated[str, typer.Option(help="Azure region, e.g. 'West US'.")] = "West US",
    legal_entity: Annotated[
        list[str] | None, typer.Option(help="Legal entity (company) ID; repeatable.")
    ] = None,
    database_url: Annotated[
        str | None, typer.Option(help="Empty or existing F&O database; default: a SQLite file.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Deploy an environment with its data store and initial Power Platform environment."""
    context = current(ctx)
    spec = EnvironmentSpec(
        name=name,
        type=type,
        region=region,
        legal_entities=legal_entity or DEFAULT_LEGAL_ENTITIES,
        data_store_url=database_url,
    )
    with context.work() as (session, actor):
        scope = projects.get_project(session, actor, project)
        env = environments.deploy_environment(session, context.settings, actor, scope, spec)
        row = EnvironmentRead.of(env)
    if as_json:
        show(row, as_json)
    else:
        done(
            f"Deployed {row.name} in {row.region} ({row.geography}); data in {row.data_store_url}."
        )
