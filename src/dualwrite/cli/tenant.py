"""Tenants and their Power Platform settings: `dualwrite tenant …`."""

from __future__ import annotations

from typing import Annotated

import typer

from dualwrite.cli._context import current
from dualwrite.cli._output import JsonOption, show
from dualwrite.identity import directory
from dualwrite.platform.environments import capacity as tenant_capacity
from dualwrite.schemas import CapacityRead, TenantRead

app = typer.Typer(
    help="Tenants (directories) and their Power Platform settings.", no_args_is_help=True
)
COLUMNS = ("domain", "display_name", "everyone_can_create_environments", "database_capacity_gb")


@app.command("list")
def list_(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """List the tenants you can see."""
    with current(ctx).work() as (session, actor):
        rows = [TenantRead.model_validate(t) for t in directory.list_tenants(session, actor)]
    show(rows, as_json, COLUMNS)


@app.command("show")
def show_(ctx: typer.Context, domain: str, as_json: JsonOption = False) -> None:
    """Show one tenant."""
    with current(ctx).work() as (session, actor):
        row = TenantRead.model_validate(directory.visible_tenant(session, actor, domain))
    show(row, as_json)


@app.command()
def create(
    ctx: typer.Context,
    domain: str,
    name: Annotated[str, typer.Option(help="Display name.")],
    admin_upn: Annotated[str, typer.Option(help="Its first Global administrator.")],
    admin_name: Annotated[str, typer.Option(help="The administrator's display name.")],
    admin_password: Annotated[
        str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)
    ],
    capacity_gb: Annotated[float, typer.Option(help="Power Platform database capacity.")] = 10.0,
    restricted: Annotated[
        bool, typer.Option(help="Only admins may create Power Platform environments.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Create a tenant with its first Global administrator (installation operators only)."""
    with current(ctx).work() as (session, actor):
        tenant, _admin = directory.create_tenant(
            session,
            actor,
            domain=domain,
            display_name=name,
            admin_upn=admin_upn,
            admin_name=admin_name,
            admin_password=admin_password,
            everyone_can_create_environments=not restricted,
            database_capacity_gb=capacity_gb,
        )
        row = TenantRead.model_validate(tenant)
    show(row, as_json)


@app.command()
def settings(
    ctx: typer.Context,
    domain: str,
    everyone_can_create: Annotated[
        bool | None,
        typer.Option(
            "--everyone-can-create/--restricted",
            help="Who may create Power Platform environments (governance).",
        ),
    ] = None,
    capacity_gb: Annotated[float | None, typer.Option(help="Database capacity in GB.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Change Power Platform settings (Global or Power Platform administrators)."""
    with current(ctx).work() as (session, actor):
        tenant = directory.visible_tenant(session, actor, domain)
        directory.update_tenant_settings(
            session,
            actor,
            tenant,
            everyone_can_create_environments=everyone_can_create,
            database_capacity_gb=capacity_gb,
        )
        row = TenantRead.model_validate(tenant)
    show(row, as_json)


@app.command()
def capacity(ctx: typer.Context, domain: str, as_json: JsonOption = False) -> None:
    """Show the tenant's Power Platform database capacity: total, used, free."""
    with current(ctx).work() as (session, actor):
        cap = tenant_capacity(session, directory.visible_tenant(session, actor, domain))
    show(CapacityRead(total_gb=cap.total_gb, used_gb=cap.used_gb, free_gb=cap.free_gb), as_json)
