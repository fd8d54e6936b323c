"""Registered applications and their client secrets, application users of F&O and Dataverse
environments, and the token signing keys (installation operators)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, status
from sqlalchemy.orm import Session

from dualwrite.api.deps import CurrentUser, SessionDep, SettingsDep
from dualwrite.control.models import FoEnvironment, PlatformEnvironment, RegisteredApplication
from dualwrite.identity import apps, environment_access, signing
from dualwrite.identity_schemas import (
    AppUserGrant,
    AppUserRead,
    NewSecretRead,
    RegisteredAppCreate,
    RegisteredAppCreated,
    RegisteredAppRead,
    RegisteredAppUpdate,
    SecretRotate,
    SigningKeyRead,
)
from dualwrite.lifecycle import environments
from dualwrite.platform import environments as platform

router = APIRouter(tags=["registered applications"])


def _read(session: Session, app: RegisteredApplication) -> RegisteredAppRead:
    return RegisteredAppRead.of(app, apps.dualwrite_pairs(session, app))


@router.get("/apps", response_model=list[RegisteredAppRead])
def list_apps(session: SessionDep, actor: CurrentUser) -> list[RegisteredAppRead]:
    """The tenant's registered applications (Global and Power Platform administrators)."""
    return [_read(session, a) for a in apps.list_applications(session, actor)]


@router.post("/apps", response_model=RegisteredAppCreated, status_code=status.HTTP_201_CREATED)
def create_app(
    body: RegisteredAppCreate, session: SessionDep, actor: CurrentUser
) -> RegisteredAppCreated:
    """Register an application; its first client secret is in the answer, and only there."""
    app, made = apps.create_application(
        session,
        actor,
        body.display_name,
        secret_days=body.secret_days,
        secret_description=body.secret_description,
    )
    return RegisteredAppCreated(application=_read(session, app), secret=NewSecretRead.of(app, made))


@router.get("/apps/{client_id}", response_model=RegisteredAppRead)
def show_app(client_id: str, session: SessionDep, actor: CurrentUser) -> RegisteredAppRead:
    return _read(session, apps.get_application(session, actor, client_id))


@router.patch("/apps/{client_id}", response_model=RegisteredAppRead)
def update_app(
    client_id: str, body: RegisteredAppUpdate, session: SessionDep, actor: CurrentUser
) -> RegisteredAppRead:
    """Rename an application, or disable it (no tokens; its tokens are refused)."""
    app = apps.get_application(session, actor, client_id)
    apps.update_application(
        session, actor, app, display_name=body.display_name, enabled=body.enabled
    )
    return _read(session, app)


@router.delete("/apps/{client_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_app(client_id: str, session: SessionDep, actor: CurrentUser) -> None:
    """Delete an application with its secrets and application users (DW3007 for the
    dual-write application's)."""
    apps.delete_application(session, actor, apps.get_application(session, actor, client_id))


@router.post(
    "/apps/{client_id}/secrets", response_model=NewSecretRead, status_code=status.HTTP_201_CREATED
)
def rotate_secret(
    client_id: str, body: SecretRotate, session: SessionDep, actor: CurrentUser
) -> NewSecretRead:
    """A new client secret (in the answer, and only there); the current ones end at
    `old_secrets_end`, by default now."""
    app = apps.get_application(session, actor, client_id)
    made = apps.rotate_secret(
        session,
        actor,
        app,
        old_secrets_end=body.old_secrets_end,
        secret_days=body.secret_days,
        description=body.description,
    )
    return NewSecretRead.of(app, made)


# --- application users of environments ------------------------------------------------------


def _users(
    session: Session, env: FoEnvironment | PlatformEnvironment, kind: Literal["fo", "dataverse"]
) -> list[AppUserRead]:
    return [
        AppUserRead.of(e, env.name, kind)
        for e in environment_access.application_users(session, env)
    ]


@router.get("/environments/{env}/app-users", response_model=list[AppUserRead])
def fo_app_users(env: str, session: SessionDep, actor: CurrentUser) -> list[AppUserRead]:
    """Application users of an F&O environment (the dual-write application's among them)."""
    return _users(session, environments.get_environment(session, actor, env), "fo")


@router.put("/environments/{env}/app-users/{client_id}", response_model=list[AppUserRead])
def grant_fo_app_user(
    env: str, client_id: str, body: AppUserGrant, session: SessionDep, actor: CurrentUser
) -> list[AppUserRead]:
    """Make a registered application an application user of the F&O environment."""
    found = environments.get_environment(session, actor, env)
    environment_access.grant_application_user(
        session, actor, found, client_id, body.security_role, enabled=body.enabled
    )
    return _users(session, found, "fo")


@router.delete("/environments/{env}/app-users/{client_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_fo_app_user(env: str, client_id: str, session: SessionDep, actor: CurrentUser) -> None:
    found = environments.get_environment(session, actor, env)
    environment_access.revoke_application_user(session, actor, found, client_id)


@router.get("/platform/environments/{env}/app-users", response_model=list[AppUserRead])
def dataverse_app_users(env: str, session: SessionDep, actor: CurrentUser) -> list[AppUserRead]:
    """Application users of a Dataverse (the dual-write application's among them)."""
    return _users(session, platform.get_environment(session, actor, env), "dataverse")


@router.put("/platform/environments/{env}/app-users/{client_id}", response_model=list[AppUserRead])
def grant_dataverse_app_user(
    env: str, client_id: str, body: AppUserGrant, session: SessionDep, actor: CurrentUser
) -> list[AppUserRead]:
    """Make a registered application an application user of the Dataverse."""
    found = platform.get_environment(session, actor, env)
    environment_access.grant_application_user(
        session, actor, found, client_id, body.security_role, enabled=body.enabled
    )
    return _users(session, found, "dataverse")


@router.delete(
    "/platform/environments/{env}/app-users/{client_id}", status_code=status.HTTP_204_NO_CONTENT
)
def revoke_dataverse_app_user(
    env: str, client_id: str, session: SessionDep, actor: CurrentUser
) -> None:
    found = platform.get_environment(session, actor, env)
    environment_access.revoke_application_user(session, actor, found, client_id)


# --- signing keys ----------------------------------------------------------------------------


@router.get("/signing-keys", response_model=list[SigningKeyRead])
def list_keys(session: SessionDep, actor: CurrentUser) -> list[SigningKeyRead]:
    """The token signing keys (installation operators)."""
    return [SigningKeyRead.of(k) for k in signing.list_keys(session, actor)]


@router.post("/signing-keys", response_model=SigningKeyRead, status_code=status.HTTP_201_CREATED)
def rotate_keys(session: SessionDep, actor: CurrentUser, settings: SettingsDep) -> SigningKeyRead:
    """A new active signing key; the others stay published until retired."""
    return SigningKeyRead.of(signing.rotate_keys(session, settings, actor))


@router.post("/signing-keys/{kid}/retire", response_model=SigningKeyRead)
def retire_key(kid: str, session: SessionDep, actor: CurrentUser) -> SigningKeyRead:
    """Take an inactive key out of the JWKS: the tokens it signed no longer verify."""
    return SigningKeyRead.of(signing.retire_key(session, actor, kid))
