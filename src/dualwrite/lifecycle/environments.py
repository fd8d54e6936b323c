"""Finance and operations environments: deploy (with data store and initial Power Platform
environment), list, show, and the downtime guard that refuses writes while an operation runs."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from dualwrite.control.models import (
    DirectoryRole,
    EnvironmentState,
    EnvironmentType,
    FoEnvironment,
    FoEnvironmentUser,
    FoSecurityRole,
    PlatformEnvironment,
    Project,
    Region,
    User,
)
from dualwrite.errors import ERR
from dualwrite.identity.authz import role_by_name
from dualwrite.identity.directory import visible_user
from dualwrite.installation import datastores
from dualwrite.lifecycle.projects import ENVIRONMENT_ROLES, require_project_role, visible_projects
from dualwrite.platform.environments import new_environment_id, region_by_name
from dualwrite.settings import Settings
from dualwrite.stores.datastore import (
    Side,
    ensure_legal_entities,
    prepare_data_store,
)

_ENV_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{2,49}$")
_COMPANY = re.compile(r"^[A-Z0-9]{2,4}$")
DEFAULT_LEGAL_ENTITIES = ("USMF", "DEMF", "GBSI")


@dataclass(frozen=True)
class EnvironmentSpec:
    """What a user asks for when deploying an environment."""

    name: str
    type: EnvironmentType | str = EnvironmentType.SANDBOX
    region: str = "West US"
    legal_entities: Sequence[str] = DEFAULT_LEGAL_ENTITIES
    data_store_url: str | None = None


def _validated_companies(codes: Sequence[str]) -> list[str]:
    cleaned = list(dict.fromkeys(c.strip().upper() for c in codes if c.strip()))
    if not cleaned:
        raise ERR.INVALID_INPUT.error(field="legal entities", problem="name at least one")
    bad = [c for c in cleaned if not _COMPANY.match(c)]
    if bad:
        raise ERR.INVALID_INPUT.error(
            field="legal entities",
            problem=f"{', '.join(bad)}: a legal entity ID is 2-4 letters or digits, like USMF",
        )
    return cleaned


def _environment_type(value: EnvironmentType | str) -> EnvironmentType:
    try:
        return EnvironmentType(str(value).strip().lower())
    except ValueError:
        raise ERR.INVALID_INPUT.error(
            field="environment type", problem=f"'{value}' is neither sandbox nor production"
        ) from None


def _check_name_free(session: Session, tenant_id: int, name: str) -> None:
    """Names are unique within a tenant; other tenants' names are neither taken nor told."""
    if not _ENV_NAME.match(name):
        raise ERR.INVALID_INPUT.error(
            field="environment name",
            problem=f"'{name}' must start with a letter and have 3-50 letters, digits or dashes",
        )
    taken = select(FoEnvironment.id).where(
        FoEnvironment.tenant_id == tenant_id, FoEnvironment.name == name
    )
    if session.scalar(taken) is not None:
        raise ERR.DUPLICATE_NAME.error(kind="environment", name=name)


def deploy_environment(
    session: Session, settings: Settings, actor: User, project: Project, spec: EnvironmentSpec
) -> FoEnvironment:
    """Deploy an F&O environment: validate everything first, then create its data store and its
    initial Power Platform environment (the 1:1 placeholder without Dataverse)."""
    require_project_role(project, actor, "Deploying an environment", *ENVIRONMENT_ROLES)
    name = spec.name.strip()
    _check_name_free(session, project.tenant_id, name)
    env_type = _environment_type(spec.type)
    region: Region = region_by_name(session, spec.region)
    companies = _validated_companies(spec.legal_entities)
    default = settings.default_store_url(project.tenant.domain, name, "fo.db")
    location = datastores.new_location(session, settings, actor, spec.data_store_url, default)
    url = location.url

    env = FoEnvironment(
        project=project,
        tenant_id=project.tenant_id,
        name=name,
        type=env_type,
        region=region.name,
        data_store_url=url,
    )
    session.add(env)
    initial = PlatformEnvironment(
        id=new_environment_id(),
        tenant_id=project.tenant_id,
        name=f"{name} (initial)",
        region=region.name,
        is_initial=True,
        fo_environment=env,
    )
    session.add(initial)
    session.flush()  # unique names are checked by the database before any data store is touched
    datastores.claim(session, location, project.tenant_id, fo_environment_id=env.id)
    prepare_data_store(url, Side.FO)
    ensure_legal_entities(url, companies)
    return env


def visible_environments(actor: User) -> ColumnElement[bool]:
    """Where-clause: environments of visible projects, and those where the actor holds an F&O
    security role (a dual-write user need not be in the LCS project)."""
    granted = select(FoEnvironmentUser.fo_environment_id).where(
        FoEnvironmentUser.user_id == actor.id
    )
    return or_(visible_projects(actor), FoEnvironment.id.in_(granted))


def list_environments(
    session: Session, actor: User, project: Project | None = None
) -> list[FoEnvironment]:
    query = select(FoEnvironment).join(Project).where(visible_environments(actor))
    if project is not None:
        query = query.where(FoEnvironment.project_id == project.id)
    return list(session.scalars(query.order_by(FoEnvironment.name)))


def get_environment(session: Session, actor: User, name: str) -> FoEnvironment:
    query = (
        select(FoEnvironment)
        .join(Project)
        .where(FoEnvironment.name == name.strip(), visible_environments(actor))
    )
    env = session.scalar(query)
    if env is None:
        raise ERR.NOT_FOUND.error(kind="environment", name=name, noun="env")
    return env


def has_environment_role(env: FoEnvironment, user: User, role: FoSecurityRole) -> bool:
    return any(u.user_id == user.id and u.role is role for u in env.users)


def grant_environment_role(
    session: Session, actor: User, env: FoEnvironment, upn: str, role: FoSecurityRole | str
) -> FoEnvironmentUser:
    """Give a user a security role inside the environment: its Project owners and Environment
    managers, or a Global administrator of its tenant."""
    _require_environment_admin(actor, env, "Granting security roles in the environment")
    wanted = role_by_name(FoSecurityRole, role, "finance and operations security")
    user = visible_user(session, actor, upn)
    found = next((u for u in env.users if u.user_id == user.id), None)
    if found is None:
        found = FoEnvironmentUser(user_id=user.id, role=wanted)
        env.users.append(found)
    else:
        found.role = wanted
    session.flush()
    return found


def revoke_environment_role(session: Session, actor: User, env: FoEnvironment, upn: str) -> None:
    _require_environment_admin(actor, env, "Removing security roles in the environment")
    user = visible_user(session, actor, upn)
    env.users = [u for u in env.users if u.user_id != user.id]
    session.flush()


def _require_environment_admin(actor: User, env: FoEnvironment, action: str) -> None:
    project = env.project
    if actor.tenant_id == project.tenant_id and actor.has_role(DirectoryRole.GLOBAL_ADMIN):
        return
    require_project_role(project, actor, action, *ENVIRONMENT_ROLES)


def require_writable(env: FoEnvironment) -> None:
    """Writes to an environment in downtime are refused with the reason; reads keep working."""
    if env.state is EnvironmentState.DOWNTIME:
        raise ERR.ENVIRONMENT_DOWNTIME.error(name=env.name, reason=env.state_reason or "servicing")
