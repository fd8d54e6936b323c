"""Registered applications, application users of environments and token signing keys:
`dualwrite app create|list|show|update|rotate|delete`, `app grant|revoke|users`,
`app keys list|rotate|retire`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

import typer
from sqlalchemy.orm import Session

from dualwrite.cli._context import current
from dualwrite.cli._output import JsonOption, console, done, print_json, show
from dualwrite.control.models import (
    FoEnvironment,
    PlatformEnvironment,
    RegisteredApplication,
    User,
)
from dualwrite.errors import ERR
from dualwrite.identity import apps, environment_access, signing
from dualwrite.identity.apps import DEFAULT_SECRET_DAYS
from dualwrite.identity_schemas import (
    AppUserRead,
    NewSecretRead,
    RegisteredAppCreated,
    RegisteredAppRead,
    SigningKeyRead,
)
from dualwrite.lifecycle import environments
from dualwrite.platform import environments as platform

app = typer.Typer(
    help="Registered applications: client IDs and secrets that get tokens for the "
    "environments' APIs, their application users in environments, the token signing keys.",
    no_args_is_help=True,
)
keys_app = typer.Typer(help="Token signing keys (installation operators).", no_args_is_help=True)
app.add_typer(keys_app, name="keys")

AppArgument = Annotated[str, typer.Argument(help="Client ID, or display name if unique.")]
SecretDays = Annotated[int, typer.Option(help="Lifetime of the new secret in days (1 to 730).")]
FoOption = Annotated[str | None, typer.Option("--fo", help="An F&O environment, by name.")]
DataverseOption = Annotated[
    str | None,
    typer.Option("--dataverse", help="A Power Platform environment with Dataverse, by name or ID."),
]
COLUMNS = ("client_id", "display_name", "enabled", "secret_expires_at", "dualwrite_environments")
USER_COLUMNS = ("client_id", "name", "security_role", "enabled", "dualwrite")


def _read(session: Session, registered: RegisteredApplication) -> RegisteredAppRead:
    return RegisteredAppRead.of(registered, apps.dualwrite_pairs(session, registered))


def _secret_shown(secret: NewSecretRead) -> None:
    console.print(f"Client ID  [bold]{secret.client_id}[/]", markup=True)
    console.print(
        f"Secret     [bold]{secret.secret}[/]  (expires {secret.expires_at:%Y-%m-%d})", markup=True
    )
    console.print("The secret is shown this once; it is stored only as a hash.")


@app.command()
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Display name.")],
    secret_days: SecretDays = DEFAULT_SECRET_DAYS,
    description: Annotated[str, typer.Option(help="Description of the secret.")] = "",
    as_json: JsonOption = False,
) -> None:
    """Register an application with a first client secret (Global or Power Platform admins)."""
    with current(ctx).work() as (session, actor):
        registered, made = apps.create_application(
            session, actor, name, secret_days=secret_days, secret_description=description
        )
        created = RegisteredAppCreated(
            application=_read(session, registered), secret=NewSecretRead.of(registered, made)
        )
    if as_json:
        print_json(created)
    else:
        _secret_shown(created.secret)


@app.command("list")
def list_(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """List the tenant's registered applications."""
    with current(ctx).work() as (session, actor):
        rows = [_read(session, a) for a in apps.list_applications(session, actor)]
    show(rows, as_json, COLUMNS)


@app.command("show")
def show_(ctx: typer.Context, application: AppArgument, as_json: JsonOption = False) -> None:
    """Show an application with its secrets (IDs, hints and expiry; never their values)."""
    with current(ctx).work() as (session, actor):
        row = _read(session, apps.get_application(session, actor, application))
    show(row, as_json)


@app.command()
def update(
    ctx: typer.Context,
    application: AppArgument,
    name: Annotated[str | None, typer.Option(help="New display name.")] = None,
    enabled: Annotated[
        bool | None,
        typer.Option("--enabled/--disabled", help="A disabled application gets no tokens."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Rename an application, or enable or disable it."""
    with current(ctx).work() as (session, actor):
        found = apps.get_application(session, actor, application)
        apps.update_application(session, actor, found, display_name=name, enabled=enabled)
        row = _read(session, found)
    show(row, as_json)


def _moment(text: str | None) -> datetime | None:
    if text is None or text.strip().lower() == "now":
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ERR.INVALID_INPUT.error(
            field="--old-secrets-end", problem=f"'{text}' is neither 'now' nor an ISO 8601 time"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@app.command()
def rotate(
    ctx: typer.Context,
    application: AppArgument,
    old_secrets_end: Annotated[
        str | None,
        typer.Option(
            help="When the current secrets stop working: 'now' (default) or an ISO 8601 time, "
            "e.g. 2027-01-31T12:00 (UTC unless it says otherwise)."
        ),
    ] = None,
    secret_days: SecretDays = DEFAULT_SECRET_DAYS,
    description: Annotated[str, typer.Option(help="Description of the secret.")] = "",
    as_json: JsonOption = False,
) -> None:
    """A new client secret, shown once; the current ones end now or at --old-secrets-end.
    Also how the dual-write application gets a secret it can sign in with."""
    with current(ctx).work() as (session, actor):
        found = apps.get_application(session, actor, application)
        made = apps.rotate_secret(
            session,
            actor,
            found,
            old_secrets_end=_moment(old_secrets_end),
            secret_days=secret_days,
            description=description,
        )
        secret = NewSecretRead.of(found, made)
    if as_json:
        print_json(secret)
    else:
        _secret_shown(secret)


@app.command()
def delete(ctx: typer.Context, application: AppArgument) -> None:
    """Delete an application with its secrets and application users."""
    with current(ctx).work() as (session, actor):
        found = apps.get_application(session, actor, application)
        label = f"{found.display_name} ({found.client_id})"
        apps.delete_application(session, actor, found)
    done(f"Deleted {label}.")


def _environment(
    session: Session, actor: User, fo: str | None, dataverse: str | None
) -> tuple[FoEnvironment | PlatformEnvironment, Literal["fo", "dataverse"]]:
    if (fo is None) == (dataverse is None):
        raise ERR.INVALID_INPUT.error(
            field="environment", problem="name one: --fo <F&O environment> or --dataverse <name>"
        )
    if fo is not None:
        return environments.get_environment(session, actor, fo), "fo"
    return platform.get_environment(session, actor, dataverse or ""), "dataverse"


def _user_rows(
    session: Session, env: FoEnvironment | PlatformEnvironment, kind: Literal["fo", "dataverse"]
) -> list[AppUserRead]:
    return [
        AppUserRead.of(e, env.name, kind)
        for e in environment_access.application_users(session, env)
    ]


@app.command()
def grant(
    ctx: typer.Context,
    application: AppArgument,
    role: Annotated[str, typer.Option(help="Security role, e.g. 'System Administrator'.")],
    fo: FoOption = None,
    dataverse: DataverseOption = None,
    disabled: Annotated[bool, typer.Option("--disabled", help="Add it disabled.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Make an application an application user of an environment with a security role."""
    with current(ctx).work() as (session, actor):
        env, kind = _environment(session, actor, fo, dataverse)
        environment_access.grant_application_user(
            session, actor, env, application, role, enabled=not disabled
        )
        rows = _user_rows(session, env, kind)
    show(rows, as_json, USER_COLUMNS)


@app.command()
def revoke(
    ctx: typer.Context,
    application: AppArgument,
    fo: FoOption = None,
    dataverse: DataverseOption = None,
) -> None:
    """Remove an application user from an environment."""
    with current(ctx).work() as (session, actor):
        env, _kind = _environment(session, actor, fo, dataverse)
        environment_access.revoke_application_user(session, actor, env, application)
        name = env.name
    done(f"{application} is no longer an application user of {name}.")


@app.command()
def users(
    ctx: typer.Context,
    fo: FoOption = None,
    dataverse: DataverseOption = None,
    as_json: JsonOption = False,
) -> None:
    """The application users of an environment, the dual-write application's among them."""
    with current(ctx).work() as (session, actor):
        env, kind = _environment(session, actor, fo, dataverse)
        rows = _user_rows(session, env, kind)
    show(rows, as_json, USER_COLUMNS)


KEY_COLUMNS = ("kid", "active", "published", "created_at", "retired_at")


@keys_app.command("list")
def list_keys(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """The token signing keys: the active one, and those still published."""
    with current(ctx).work() as (session, actor):
        rows = [SigningKeyRead.of(k) for k in signing.list_keys(session, actor)]
    show(rows, as_json, KEY_COLUMNS)


@keys_app.command("rotate")
def rotate_keys(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """A new active signing key; the others stay published so their tokens still verify."""
    context = current(ctx)
    with context.work() as (session, actor):
        row = SigningKeyRead.of(signing.rotate_keys(session, context.settings, actor))
    show(row, as_json)


@keys_app.command("retire")
def retire_key(ctx: typer.Context, kid: str, as_json: JsonOption = False) -> None:
    """Take an inactive key out of the JWKS: the tokens it signed no longer verify."""
    with current(ctx).work() as (session, actor):
        row = SigningKeyRead.of(signing.retire_key(session, actor, kid))
    show(row, as_json)
