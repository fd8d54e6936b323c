"""Who may read and write an environment's data through its API — the one place for it.

Dataverse: the environment's System Administrators read and write, so do its enabled dual-write
application users (side "dataverse"); other users of the tenant read only when they are Global
or Power Platform administrators; anyone else gets 403 with the privilege Dataverse names.
Finance and operations: Project owners and Environment managers of the project and users with a
security role in the environment write, team members read, the environment's enabled dual-write
application (side "fo") writes; anyone else 403. A caller of another tenant always gets 404, as
for an environment that does not exist: the answer must not tell that it exists."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from dualwrite.control.models import (
    DirectoryRole,
    EnvironmentState,
    FoEnvironment,
    PlatformEnvironment,
    ProjectRole,
    User,
)
from dualwrite.identity.environment_access import application_users
from dualwrite.identity.principals import Principal
from dualwrite.odata.errors import PRIVILEGE, ODataError


class Op(StrEnum):
    READ = "Read"
    CREATE = "Create"
    WRITE = "Write"
    DELETE = "Delete"


@dataclass(frozen=True)
class Grant:
    principal: Principal
    user: User | None
    can_write: bool
    label: str  # who, for messages: a UPN or an application ID


@dataclass(frozen=True)
class DataverseGrant(Grant):
    environment_id: str
    store_url: str

    def require(self, op: Op, entity: str) -> None:
        if op is Op.READ or self.can_write:
            return
        schema = entity[:1].upper() + entity[1:]
        raise ODataError(
            403,
            f"Principal user (Id={self.principal.object_id}, type=8, roleCount=1, "
            f"privilegeCount=0, accessMode=0), is missing prv{op.value}{schema} privilege "
            f"on OTC for entity '{entity}'. Context: {self.label}.",
            PRIVILEGE,
        )


@dataclass(frozen=True)
class FoGrant(Grant):
    environment_id: int
    name: str
    store_url: str
    downtime: str | None  # why writes are refused right now, None when they are not

    def require(self, op: Op, collection: str) -> None:
        if op is not Op.READ and not self.can_write:
            raise ODataError(
                403,
                f"Access denied: '{self.label}' may not {op.value.lower()} '{collection}' in "
                f"environment '{self.name}'.",
                PRIVILEGE,
            )
        if op is not Op.READ and self.downtime is not None:
            raise ODataError(
                503,
                f"The environment '{self.name}' is in downtime ({self.downtime}): writes are "
                "refused until it is back.",
            )


def _no_environment(label: str) -> ODataError:
    return ODataError(404, f"The environment '{label}' was not found.", "0x80040217")


def _user(session: Session, principal: Principal) -> User | None:
    if principal.user_id is None:
        return None
    user = session.get(User, principal.user_id)
    if user is None or not user.is_active or user.tenant_id != principal.tenant_id:
        raise ODataError(401, "The caller's account no longer exists or is disabled.", "0x80072560")
    return user


def _application(
    session: Session, principal: Principal, env: FoEnvironment | PlatformEnvironment
) -> bool:
    """An application writes where it is an enabled application user with a security role
    (the dual-write application's, or one granted with `dualwrite app grant`)."""
    return principal.app_id is not None and any(
        e.client_id == principal.app_id and e.enabled and e.security_role
        for e in application_users(session, env)
    )


def dataverse_grant(session: Session, principal: Principal, environment_id: str) -> DataverseGrant:
    env = session.get(PlatformEnvironment, environment_id)
    if env is None or env.tenant_id != principal.tenant_id or not env.dataverse_url:
        raise _no_environment(environment_id)
    user = _user(session, principal)
    label = user.upn if user else str(principal.app_id)
    if user is None:
        writes: bool | None = True if _application(session, principal, env) else None
    elif any(a.user_id == user.id for a in env.admins):
        writes = True
    elif user.has_role(DirectoryRole.GLOBAL_ADMIN, DirectoryRole.POWER_PLATFORM_ADMIN):
        writes = False
    else:
        writes = None
    if writes is None:
        raise ODataError(
            403,
            f"Principal user (Id={principal.object_id}, type=8, roleCount=0, privilegeCount=0, "
            f"accessMode=0), is missing prvReadAccount privilege. '{label}' has no security "
            f"role in the environment '{env.name}'.",
            PRIVILEGE,
        )
    return DataverseGrant(principal, user, writes, label, env.id, env.dataverse_url)


def fo_grant(session: Session, principal: Principal, name: str) -> FoGrant:
    env = session.scalars(
        select(FoEnvironment).where(
            FoEnvironment.tenant_id == principal.tenant_id, FoEnvironment.name == name
        )
    ).first()
    if env is None:
        raise _no_environment(name)
    user = _user(session, principal)
    label = user.upn if user else str(principal.app_id)
    if user is None:
        writes: bool | None = True if _application(session, principal, env) else None
    else:
        role = next((m.role for m in env.project.members if m.user_id == user.id), None)
        has_security_role = any(u.user_id == user.id for u in env.users)
        if (
            role in (ProjectRole.PROJECT_OWNER, ProjectRole.ENVIRONMENT_MANAGER)
            or has_security_role
        ):
            writes = True
        elif role is ProjectRole.TEAM_MEMBER:
            writes = False
        else:
            writes = None
    if writes is None:
        raise ODataError(
            403,
            f"Access denied: '{label}' has no role in the environment '{env.name}' or its project.",
            PRIVILEGE,
        )
    downtime = (env.state_reason or "servicing") if env.state is EnvironmentState.DOWNTIME else None
    return FoGrant(principal, user, writes, label, env.id, env.name, env.data_store_url, downtime)
