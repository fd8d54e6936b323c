"""Users, directory roles and licenses: `dualwrite user …` and `dualwrite license list`."""

from __future__ import annotations

from typing import Annotated

import typer

from dualwrite.cli._context import current
from dualwrite.cli._output import JsonOption, show
from dualwrite.identity import directory
from dualwrite.schemas import LicenseRead, UserRead

app = typer.Typer(
    help="Users of your tenant, their directory roles and licenses.", no_args_is_help=True
)
licenses_app = typer.Typer(help="The license catalogue.", no_args_is_help=True)
COLUMNS = ("upn", "display_name", "roles", "licenses")


@app.command("list")
def list_(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """List the users of your tenant."""
    with current(ctx).work() as (session, actor):
        rows = [UserRead.of(u) for u in directory.list_users(session, actor)]
    show(rows, as_json, COLUMNS)


@app.command("show")
def show_(ctx: typer.Context, upn: str, as_json: JsonOption = False) -> None:
    """Show one user."""
    with current(ctx).work() as (session, actor):
        row = UserRead.of(directory.visible_user(session, actor, upn))
    show(row, as_json)


@app.command()
def create(
    ctx: typer.Context,
    upn: Annotated[str, typer.Option(help="alias@your-tenant-domain")],
    name: Annotated[str, typer.Option(help="Display name.")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
    role: Annotated[list[str] | None, typer.Option(help="Directory role; repeatable.")] = None,
    license: Annotated[list[str] | None, typer.Option(help="License SKU; repeatable.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Add a user to your tenant (Global administrators only)."""
    with current(ctx).work() as (session, actor):
        user = directory.create_user(
            session,
            actor,
            upn=upn,
            display_name=name,
            password=password,
            roles=role or (),
            licenses=license or (),
        )
        row = UserRead.of(user)
    show(row, as_json)


@app.command()
def grant(ctx: typer.Context, upn: str, role: str, as_json: JsonOption = False) -> None:
    """Grant a directory role, e.g. power-platform-admin (Global administrators only)."""
    with current(ctx).work() as (session, actor):
        row = UserRead.of(directory.assign_role(session, actor, upn, role))
    show(row, as_json)


@app.command()
def revoke(ctx: typer.Context, upn: str, role: str, as_json: JsonOption = False) -> None:
    """Remove a directory role."""
    with current(ctx).work() as (session, actor):
        row = UserRead.of(directory.remove_role(session, actor, upn, role))
    show(row, as_json)


@app.command("license")
def license_(
    ctx: typer.Context,
    upn: str,
    sku: str,
    remove: Annotated[bool, typer.Option("--remove", help="Take the license away.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Assign (or with --remove, remove) a license, e.g. D365_FINANCE."""
    change = directory.remove_license if remove else directory.assign_license
    with current(ctx).work() as (session, actor):
        row = UserRead.of(change(session, actor, upn, sku))
    show(row, as_json)


@licenses_app.command("list")
def list_licenses(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """List the license catalogue; 'qualifies for fo' marks those Power Platform setup accepts."""
    with current(ctx).work() as (session, _actor):
        rows = [LicenseRead.model_validate(lic) for lic in directory.license_catalogue(session)]
    show(rows, as_json, ("sku", "name", "qualifies_for_fo"))
