"""Who may use an environment's API besides having a token for it: application users (a
registered application with a security role in a Dataverse or an F&O environment — the
dual-write application's users among them) and the security roles of users there.

A token says who calls (`tokens.verify_access_token`); these say what the caller is in the
environment, so an API can refuse a token whose application is no application user of it,
exactly as Dataverse and F&O do.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from dualwrite.control.models import (
    ApplicationUser,
    DirectoryRole,
    EnvironmentAppUser,
    FoEnvironment,
    FoEnvironmentUser,
    PlatformEnvironment,
    PlatformEnvironmentAdmin,
    RegisteredApplication,
    User,
)
from dualwrite.errors import ERR
from dualwrite.identity.apps import find_application
from dualwrite.identity.authz import ADMIN_ROLES, require_role
from dualwrite.identity.principals import Principal
from dualwrite.identity.resources import Resource, ResourceKind
from dualwrite.lifecycle.projects import ENVIRONMENT_ROLES, require_project_role, role_in

Environment = FoEnvironment | PlatformEnvironment
SYSTEM_ADMINISTRATOR = "System Administrator"  # Dataverse's role of an environment's admins
FO_SYSTEM_ADMINISTRATOR = "System administrator"  # F&O's, of LCS owners and managers


@dataclass(frozen=True)
class AppUserEntry:
    """An application user as an environment lists it."""

    client_id: str
    name: str
    security_role: str | None
    enabled: bool
    dualwrite: bool  # the dual-write application's, kept by its install


def _side(env: Environment) -> str:
    return "fo" if isinstance(env, FoEnvironment) else "dataverse"


def _granted(env: Environment) -> ColumnElement[bool]:
    if isinstance(env, FoEnvironment):
        return EnvironmentAppUser.fo_environment_id == env.id
    return EnvironmentAppUser.platform_environment_id == env.id


def _dualwrite_rows(session: Session, env: Environment) -> list[ApplicationUser]:
    column = (
        ApplicationUser.fo_environment_id
        if isinstance(env, FoEnvironment)
        else ApplicationUser.platform_environment_id
    )
    query = select(ApplicationUser).where(column == env.id, ApplicationUser.side == _side(env))
    return list(session.scalars(query.order_by(ApplicationUser.id)))


def application_users(session: Session, env: Environment) -> list[AppUserEntry]:
    """The environment's application users: the dual-write application's, then granted ones."""
    names = dict(
        session.execute(
            select(RegisteredApplication.client_id, RegisteredApplication.display_name).where(
                RegisteredApplication.tenant_id == env.tenant_id
            )
        ).all()
    )
    entries = [
        AppUserEntry(
            u.application_id, names.get(u.application_id, u.name), u.security_role, u.enabled, True
        )
        for u in _dualwrite_rows(session, env)
    ]
    granted = session.scalars(select(EnvironmentAppUser).where(_granted(env)))
    entries += sorted(
        (
            AppUserEntry(
                g.application.client_id,
                g.application.display_name,
                g.security_role,
                g.enabled,
                False,
            )
            for g in granted
        ),
        key=lambda e: (e.name.lower(), e.client_id),
    )
    return entries


def _require_environment_admin(actor: User, env: Environment, action: str) -> None:
    """F&O: its Project owners and Environment managers, or a Global administrator of the
    tenant; Dataverse: its System Administrators, or a Global or Power Platform admin."""
    if isinstance(env, FoEnvironment):
        if actor.tenant_id == env.tenant_id and actor.has_role(DirectoryRole.GLOBAL_ADMIN):
            return
        require_project_role(env.project, actor, action, *ENVIRONMENT_ROLES)
        return
    if any(a.user_id == actor.id for a in env.admins):
        return
    require_role(actor, env.tenant_id, action, *ADMIN_ROLES)


def _application(session: Session, env: Environment, key: str) -> RegisteredApplication:
    app = find_application(session, env.tenant_id, key)
    if app is None:
        raise ERR.NOT_FOUND.error(kind="registered application", name=key, noun="app")
    if any(u.application_id == app.client_id for u in _dualwrite_rows(session, env)):
        raise ERR.DUALWRITE_APP_USER.error(name=app.display_name, environment=env.name)
    return app


def _role(security_role: str) -> str:
    role = security_role.strip()
    if not 1 <= len(role) <= 100:
        raise ERR.INVALID_INPUT.error(field="security role", problem="must be 1 to 100 characters")
    return role


def grant_application_user(
    session: Session,
    actor: User,
    env: Environment,
    client_id: str,
    security_role: str,
    *,
    enabled: bool = True,
) -> EnvironmentAppUser:
    """Make a registered application of the environment's tenant an application user of it
    with a security role (again: change its role or whether it is enabled)."""
    _require_environment_admin(actor, env, "Adding application users to the environment")
    role = _role(security_role)
    app = _application(session, env, client_id)
    query = select(EnvironmentAppUser).where(
        _granted(env),
        EnvironmentAppUser.registered_app_id == app.id,
    )
    found = session.scalar(query)
    if found is None:
        found = EnvironmentAppUser(
            registered_app_id=app.id,
            fo_environment_id=env.id if isinstance(env, FoEnvironment) else None,
            platform_environment_id=env.id if isinstance(env, PlatformEnvironment) else None,
            security_role=role,
            enabled=enabled,
        )
        session.add(found)
    found.security_role, found.enabled = role, enabled
    session.flush()
    session.refresh(found)
    return found


def revoke_application_user(
    session: Session, actor: User, env: Environment, client_id: str
) -> None:
    _require_environment_admin(actor, env, "Removing application users from the environment")
    app = _application(session, env, client_id)
    query = select(EnvironmentAppUser).where(
        _granted(env),
        EnvironmentAppUser.registered_app_id == app.id,
    )
    found = session.scalar(query)
    if found is None:
        raise ERR.NOT_FOUND.error(
            kind=f"application user of '{env.name}' for", name=client_id, noun="app users"
        )
    session.delete(found)
    session.flush()


def _environment(session: Session, resource: Resource) -> Environment | None:
    if resource.kind is ResourceKind.FO:
        return session.get(FoEnvironment, resource.fo_environment_id)
    return session.get(PlatformEnvironment, resource.platform_environment_id)


def security_roles(session: Session, principal: Principal, resource: Resource) -> list[str]:
    """The caller's security roles in the environment; none means it is no user of it.

    Applications: the roles of their enabled application users there. Users: in Dataverse,
    System Administrator for the environment's admins; in F&O, their roles in the environment,
    and System administrator for the project's owners and environment managers.
    """
    env = _environment(session, resource)
    if env is None or principal.tenant_id != env.tenant_id:
        return []
    if principal.app_id is not None:
        return sorted(
            {
                e.security_role
                for e in application_users(session, env)
                if e.client_id == principal.app_id and e.enabled and e.security_role
            }
        )
    if principal.user_id is None:
        return []
    if isinstance(env, PlatformEnvironment):
        admin = session.get(PlatformEnvironmentAdmin, (env.id, principal.user_id))
        return [SYSTEM_ADMINISTRATOR] if admin is not None else []
    roles = {
        r.role.value
        for r in session.scalars(
            select(FoEnvironmentUser).where(
                FoEnvironmentUser.fo_environment_id == env.id,
                FoEnvironmentUser.user_id == principal.user_id,
            )
        )
    }
    user = session.get(User, principal.user_id)
    if user is not None and role_in(env.project, user) in ENVIRONMENT_ROLES:
        roles.add(FO_SYSTEM_ADMINISTRATOR)
    return sorted(roles)
