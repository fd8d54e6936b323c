"""Lifecycle Services projects: `dualwrite project …`."""

from __future__ import annotations

from typing import Annotated

import typer

from dualwrite.cli._context import current
from dualwrite.cli._output import JsonOption, show
from dualwrite.lifecycle import projects
from dualwrite.schemas import ProjectRead

app = typer.Typer(help="Lifecycle Services projects and their members.", no_args_is_help=True)
COLUMNS = ("name", "tenant", "members", "environments")


@app.command("list")
def list_(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """List the projects you are a member of."""
    with current(ctx).work() as (session, actor):
        rows = [ProjectRead.of(p) for p in projects.list_projects(session, actor)]
    show(rows, as_json, COLUMNS)


@app.command("show")
def show_(ctx: typer.Context, name: str, as_json: JsonOption = False) -> None:
    """Show a project with its members and environments."""
    with current(ctx).work() as (session, actor):
        row = ProjectRead.of(projects.get_project(session, actor, name))
    show(row, as_json)


@app.command()
def create(ctx: typer.Context, name: str, as_json: JsonOption = False) -> None:
    """Create a project; you become its Project owner."""
    with current(ctx).work() as (session, actor):
        row = ProjectRead.of(projects.create_project(session, actor, name))
    show(row, as_json)


@app.command("add-member")
def add_member(
    ctx: typer.Context,
    name: str,
    upn: str,
    role: Annotated[
        str, typer.Option(help="project-owner, environment-manager or team-member.")
    ] = "team-member",
    as_json: JsonOption = False,
) -> None:
    """Add a member (also from another tenant) or change their role (Project owners only)."""
    with current(ctx).work() as (session, actor):
        project = projects.get_project(session, actor, name)
        projects.add_member(session, actor, project, upn, role)
        row = ProjectRead.of(project)
    show(row, as_json)


@app.command("remove-member")
def remove_member(ctx: typer.Context, name: str, upn: str, as_json: JsonOption = False) -> None:
    """Remove a member (Project owners only; the last owner stays)."""
    with current(ctx).work() as (session, actor):
        project = projects.get_project(session, actor, name)
        projects.remove_member(session, actor, project, upn)
        row = ProjectRead.of(project)
    show(row, as_json)
