"""Power Platform environments: regions and geographies, Dataverse data stores, capacity, admins."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dualwrite.control.models import (
    DirectoryRole,
    PlatformEnvironment,
    PlatformEnvironmentAdmin,
    Region,
    Tenant,
    User,
)
from dualwrite.errors import ERR
from dualwrite.identity.authz import require_role
from dualwrite.identity.directory import get_user
from dualwrite.installation import datastores
from dualwrite.settings import Settings
from dualwrite.stores.datastore import Side, prepare_data_store

DATAVERSE_SIZE_GB = 1.0  # seed 003: at least 1 GB of free database capacity is needed
CREATOR_ROLES = (
    DirectoryRole.GLOBAL_ADMIN,
    DirectoryRole.POWER_PLATFORM_ADMIN,
    DirectoryRole.D365_SERVICE_ADMIN,
)


@dataclass(frozen=True)
class Capacity:
    total_gb: float
    used_gb: float

    @property
    def free_gb(self) -> float:
        return round(self.total_gb - self.used_gb, 3)


def default_dataverse_url(settings: Settings, tenant: Tenant, name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.strip().lower()).strip("-") or "environment"
    return settings.default_store_url(tenant.domain, f"pp-{slug}", "dataverse.db")


def new_environment_id() -> str:
    return str(uuid.uuid4())


def regions(session: Session) -> list[Region]:
    return list(session.scalars(select(Region).order_by(Region.geography, Region.name)))


def region_by_name(session: Session, name: str) -> Region:
    wanted = name.strip().lower().replace("-", " ")
    found = session.scalar(select(Region).where(func.lower(Region.name) == wanted))
    if found is None:
        compact = wanted.replace(" ", "")
        found = session.scalar(
            select(Region).where(func.replace(func.lower(Region.name), " ", "") == compact)
        )
    if found is None:
        known = ", ".join(r.name for r in regions(session))
        raise ERR.UNKNOWN_REGION.error(region=name, known=known)
    return found


def capacity(session: Session, tenant: Tenant) -> Capacity:
    used = session.scalar(
        select(func.coalesce(func.sum(PlatformEnvironment.storage_used_gb), 0.0)).where(
            PlatformEnvironment.tenant_id == tenant.id
        )
    )
    return Capacity(total_gb=tenant.database_capacity_gb, used_gb=float(used or 0.0))


def require_capacity(
    session: Session, tenant: Tenant, needed_gb: float = DATAVERSE_SIZE_GB
) -> None:
    cap = capacity(session, tenant)
    if cap.free_gb < needed_gb:
        raise ERR.INSUFFICIENT_CAPACITY.error(
            needed=f"{needed_gb:g}", free=f"{cap.free_gb:g}", total=f"{cap.total_gb:g}"
        )


def require_may_create(actor: User, tenant: Tenant) -> None:
    """Governance: where not everyone may create environments, an admin role is needed."""
    if tenant.everyone_can_create_environments:
        return
    require_role(
        actor, tenant.id, "Creating a Power Platform environment in this tenant", *CREATOR_ROLES
    )


def create_environment(
    session: Session,
    settings: Settings,
    actor: User,
    *,
    name: str,
    region: str,
    dataverse: bool,
    dataverse_url: str | None = None,
) -> PlatformEnvironment:
    """A Power Platform environment of the actor's tenant; its creator becomes its System
    Administrator. With Dataverse, it takes 1 GB of the tenant's capacity and gets a data store."""
    tenant = actor.tenant
    require_may_create(actor, tenant)
    name = name.strip()
    if not 3 <= len(name) <= 100:
        raise ERR.INVALID_INPUT.error(
            field="environment name", problem="must be 3 to 100 characters"
        )
    if session.scalar(
        select(PlatformEnvironment).where(
            PlatformEnvironment.tenant_id == tenant.id, PlatformEnvironment.name == name
        )
    ):
        raise ERR.DUPLICATE_NAME.error(kind="Power Platform environment", name=name)
    reg = region_by_name(session, region)
    env = PlatformEnvironment(
        id=new_environment_id(), tenant_id=tenant.id, name=name, region=reg.name
    )
    env.admins.append(PlatformEnvironmentAdmin(user_id=actor.id))
    location = None
    if dataverse:
        require_capacity(session, tenant)
        default = default_dataverse_url(settings, tenant, name)
        location = datastores.new_location(session, settings, actor, dataverse_url, default)
        env.has_dataverse = True
        env.dataverse_url = location.url
        env.storage_used_gb = DATAVERSE_SIZE_GB
    elif dataverse_url:
        raise ERR.INVALID_INPUT.error(
            field="Dataverse URL", problem="an environment without Dataverse has no data store"
        )
    session.add(env)
    session.flush()
    if location is not None:
        datastores.claim(session, location, tenant.id, platform_environment_id=env.id)
        prepare_data_store(location.url, Side.DATAVERSE)
    return env


def list_environments(session: Session, actor: User) -> list[PlatformEnvironment]:
    query = select(PlatformEnvironment).where(PlatformEnvironment.tenant_id == actor.tenant_id)
    return list(session.scalars(query.order_by(PlatformEnvironment.name)))


def get_environment(session: Session, actor: User, name_or_id: str) -> PlatformEnvironment:
    key = name_or_id.strip()
    query = select(PlatformEnvironment).where(
        PlatformEnvironment.tenant_id == actor.tenant_id,
        (PlatformEnvironment.name == key) | (PlatformEnvironment.id == key.lower()),
    )
    env = session.scalar(query)
    if env is None:
        raise ERR.NOT_FOUND.error(kind="Power Platform environment", name=key, noun="platform env")
    return env


def is_admin(env: PlatformEnvironment, user: User) -> bool:
    return any(a.user_id == user.id for a in env.admins)


def add_admin(
    session: Session, actor: User, env: PlatformEnvironment, upn: str
) -> PlatformEnvironment:
    """Grant System Administrator: by an environment admin or a Global/Power Platform admin."""
    if not is_admin(env, actor):
        require_role(
            actor,
            env.tenant_id,
            "Adding a System Administrator",
            DirectoryRole.GLOBAL_ADMIN,
            DirectoryRole.POWER_PLATFORM_ADMIN,
        )
    user = get_user(session, upn)
    if user.tenant_id != env.tenant_id:  # as if absent: other tenants' users are not told
        raise ERR.NOT_FOUND.error(kind="user", name=upn, noun="user")
    if not is_admin(env, user):
        env.admins.append(PlatformEnvironmentAdmin(user_id=user.id))
    session.flush()
    return env
