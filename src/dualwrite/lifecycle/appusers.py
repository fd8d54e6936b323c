"""The service principal of dual-write (seed 001): a registered application ID in F&O and an
application user with a security role in Dataverse, per F&O ↔ Dataverse pair; and the
orchestration solutions installed into that Dataverse."""

from __future__ import annotations

import uuid
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from dualwrite.control.models import (
    ApplicationUser,
    FoEnvironment,
    InstalledSolution,
    PlatformEnvironment,
    User,
)
from dualwrite.errors import ERR
from dualwrite.identity.apps import register_dualwrite_application
from dualwrite.identity.authz import require_global_admin
from dualwrite.lifecycle.projects import ENVIRONMENT_ROLES, require_project_role
from dualwrite.maps.defaults import default_solutions
from dualwrite.ops import activity
from dualwrite.ops.activity import ActivityKind
from dualwrite.platform.environments import is_admin

APPLICATION_NAME = "Dual-write"
CHECK_NAME = "Application IDs granted access to connect the apps"  # the wizard's, and LCS's


class AppSide(StrEnum):
    FO = "fo"
    DATAVERSE = "dataverse"

    @property
    def target(self) -> str:
        """How seed 001's DW9003 names the side: CRM (Dataverse) or AX (F&O)."""
        return "CRM" if self is AppSide.DATAVERSE else "AX"

    @property
    def default_role(self) -> str:
        return "Dual-write app user" if self is AppSide.DATAVERSE else "System administrator"


_FIX = {
    AppSide.DATAVERSE: "The Dataverse application user of '{platform}' must exist, be enabled and "
    "hold a security role (Dual-write app user): a tenant administrator fixes it with Fix "
    "application users (`dualwrite env fix-app-users {env} --dataverse '{platform}'`), or run "
    "Dual-write application in Lifecycle Services.",
    AppSide.FO: "The application ID registered in '{env}' must exist, be enabled and map to a user "
    "with a security role: a tenant administrator fixes it with Fix application users "
    "(`dualwrite env fix-app-users {env} --dataverse '{platform}'`), or run Dual-write "
    "application in Lifecycle Services.",
}


def application_users(
    session: Session, env: FoEnvironment, target: PlatformEnvironment
) -> dict[AppSide, ApplicationUser]:
    query = select(ApplicationUser).where(
        ApplicationUser.fo_environment_id == env.id,
        ApplicationUser.platform_environment_id == target.id,
    )
    return {AppSide(u.side): u for u in session.scalars(query)}


def register_application_users(
    session: Session, env: FoEnvironment, target: PlatformEnvironment
) -> list[ApplicationUser]:
    """Create the missing application users; existing ones are left as an admin set them.
    Their application ID is a registered application of the tenant, so they get tokens."""
    have = application_users(session, env, target)
    app_id = next((u.application_id for u in have.values()), str(uuid.uuid4()))
    register_dualwrite_application(session, env.tenant_id, app_id, APPLICATION_NAME)
    for side in AppSide:
        if side not in have:
            user = ApplicationUser(
                fo_environment_id=env.id,
                platform_environment_id=target.id,
                side=side.value,
                application_id=app_id,
                name=APPLICATION_NAME,
                security_role=side.default_role,
                enabled=True,
            )
            session.add(user)
            have[side] = user
    session.flush()
    return [have[s] for s in AppSide]


def require_service_principal(
    session: Session, env: FoEnvironment, target: PlatformEnvironment
) -> None:
    """DW9003 (CRM or AX variant) unless both application users can connect."""
    users = application_users(session, env, target)
    for side in (AppSide.DATAVERSE, AppSide.FO):
        user = users.get(side)
        if user is None or not user.enabled or not user.security_role:
            fix = _FIX[side].format(platform=target.name, env=env.name)
            raise ERR.SERVICE_PRINCIPAL.error(target=side.target, fix=fix)


def update_application_user(
    session: Session,
    actor: User,
    env: FoEnvironment,
    target: PlatformEnvironment,
    side: AppSide | str,
    *,
    enabled: bool | None = None,
    security_role: str | None = None,
) -> ApplicationUser:
    """What an administrator changes on an application user (an empty role removes it)."""
    side = AppSide(side)
    if side is AppSide.DATAVERSE:
        if not is_admin(target, actor):
            raise ERR.NOT_DATAVERSE_ADMIN.error(platform=target.name)
    else:
        require_project_role(
            env.project, actor, "Changing application IDs of the environment", *ENVIRONMENT_ROLES
        )
    user = application_users(session, env, target).get(side)
    if user is None:
        raise ERR.NOT_FOUND.error(
            kind=f"{side.target} application user for",
            name=target.name,
            noun=f"env app-users {env.name}",
        )
    if enabled is not None:
        user.enabled = enabled
    if security_role is not None:
        user.security_role = security_role.strip() or None
    session.flush()
    return user


FIX_ACTION = "Fixing the dual-write application users"


def require_fixer(actor: User, env: FoEnvironment) -> None:
    """The health check's DW9003 fix touches both sides at once (a Dataverse application user
    and an F&O application ID), so it takes a tenant (Global) administrator."""
    require_global_admin(actor, env.project.tenant_id, FIX_ACTION)


def fix_application_users(
    session: Session, actor: User, env: FoEnvironment, target: PlatformEnvironment
) -> list[ApplicationUser]:
    """What DW9003 asks for: each side's application user exists, is enabled and holds a
    security role (the default one where none is set). Logged; already fine changes nothing."""
    require_fixer(actor, env)
    if not target.has_dataverse:
        raise ERR.NO_DATAVERSE.error(name=target.name)
    had = application_users(session, env, target)
    users = register_application_users(session, env, target)
    fixed = [
        f"{AppSide(u.side).target} application user created" for u in users if u.side not in had
    ]
    for user in users:
        side = AppSide(user.side)
        if not user.enabled:
            user.enabled = True
            fixed.append(f"{side.target} application user enabled")
        if not user.security_role:
            user.security_role = side.default_role
            fixed.append(f"{side.target} application user given the {side.default_role} role")
    if fixed:
        message = f"Application users for {target.name}: {', '.join(fixed)}"
        activity.record(session, env, ActivityKind.CONFIGURATION, message, actor)
    session.flush()
    return users


def orchestration_solutions() -> list[tuple[str, str]]:
    """(name, version) of the solutions the dual-write application installs into Dataverse."""
    return [(s.name, s.version) for s in default_solutions()]


def installed_solutions(session: Session, target: PlatformEnvironment) -> list[InstalledSolution]:
    query = (
        select(InstalledSolution)
        .where(InstalledSolution.platform_environment_id == target.id)
        .order_by(InstalledSolution.kind, InstalledSolution.name)
    )
    return list(session.scalars(query))


def orchestration_installed(session: Session, target: PlatformEnvironment) -> bool:
    have = {s.name for s in installed_solutions(session, target)}
    return all(name in have for name, _version in orchestration_solutions())


def install_orchestration(session: Session, target: PlatformEnvironment) -> None:
    have = {s.name: s for s in installed_solutions(session, target)}
    for name, version in orchestration_solutions():
        if name in have:
            have[name].version = version
        else:
            session.add(
                InstalledSolution(
                    platform_environment_id=target.id,
                    name=name,
                    kind="orchestration",
                    version=version,
                )
            )
    session.flush()
