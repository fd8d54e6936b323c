"""Setting up the store and signing in: init, login, logout, whoami."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from dualwrite.cli._context import current
from dualwrite.cli._output import JsonOption, done, show
from dualwrite.errors import ERR, DualWriteError
from dualwrite.identity import directory, sessions
from dualwrite.identity.sessions import LOCAL_SOURCE, SessionKind
from dualwrite.installation import operators
from dualwrite.schemas import UserRead


def _password(given: str | None, confirm: bool) -> str:
    if given:
        return given
    from_env = os.environ.get("DUALWRITE_ADMIN_PASSWORD")
    if from_env:
        return from_env
    value: str = typer.prompt("Password", hide_input=True, confirmation_prompt=confirm)
    return value


def init(
    ctx: typer.Context,
    domain: Annotated[str, typer.Option(help="Tenant domain, e.g. contoso.onmicrosoft.com.")],
    tenant_name: Annotated[str, typer.Option(help="Display name of the tenant.")],
    admin_upn: Annotated[str, typer.Option(help="User principal name of the first admin.")],
    admin_name: Annotated[str, typer.Option(help="Display name of the first admin.")],
    password: Annotated[
        str | None, typer.Option(help="Admin password (prompted, or DUALWRITE_ADMIN_PASSWORD).")
    ] = None,
) -> None:
    """Create the control store, the first tenant and its Global administrator, and sign in."""
    context = current(ctx)
    store = context.store(initialised=False)
    store.upgrade()
    with store.session() as session:
        if directory.tenant_count(session):
            raise ERR.ALREADY_INITIALISED.error(where=store.url)
    secret = _password(password, confirm=True)
    with store.session() as session:
        _tenant, admin = directory.create_tenant(
            session,
            None,
            domain=domain,
            display_name=tenant_name,
            admin_upn=admin_upn,
            admin_name=admin_name,
            admin_password=secret,
        )
        operators.make_operator(session, admin)
    signed = sessions.sign_in(
        store, context.settings, admin_upn, secret, SessionKind.BEARER, source=LOCAL_SOURCE
    )
    context.save_credentials(signed)
    done(
        f"Initialised {store.url}; signed in as {signed.upn} (Global administrator of "
        f"{domain.strip().lower()}, and installation operator)."
    )


def login(
    ctx: typer.Context,
    upn: Annotated[str, typer.Option(help="Your user principal name.")],
    password: Annotated[str | None, typer.Option(help="Prompted when not given.")] = None,
) -> None:
    """Sign in and keep an API token for the following commands."""
    context = current(ctx)
    store = context.store()
    secret = password or typer.prompt("Password", hide_input=True)
    signed = sessions.sign_in(
        store, context.settings, upn, secret, SessionKind.BEARER, source=LOCAL_SOURCE
    )
    path = context.save_credentials(signed)
    done(f"Signed in as {signed.upn} until {signed.expires_at:%Y-%m-%d %H:%M} UTC ({path}).")


def logout(ctx: typer.Context) -> None:
    """Revoke the kept token and forget it."""
    context = current(ctx)
    try:
        token = context.token()
    except DualWriteError:  # nothing kept means nothing to revoke
        token = ""
    if token:
        with context.store().session() as session:
            sessions.sign_out(session, token)
    context.forget_credentials()
    done("Signed out.")


def whoami(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Show the signed-in user, tenant, roles and licenses."""
    with current(ctx).work() as (_session, actor):
        show(UserRead.of(actor), as_json)


def register(app: typer.Typer) -> None:
    for command in (init, login, logout, whoami):
        app.command()(command)
