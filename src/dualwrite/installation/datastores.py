"""Who may name where a data store lives, and the claim that gives each location to one
environment of one tenant.

Tenants get stores that we create under the data directory (a folder per tenant). Naming a
location — an existing database, a path — is an installation operator's action, and only
inside the directories and on the servers the installation's settings allow. Every check
runs before anything is created: a refused location leaves no file, folder or database.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dualwrite.control.models import DataStoreClaim, User
from dualwrite.errors import ERR
from dualwrite.identity.authz import is_operator
from dualwrite.settings import Settings
from dualwrite.stores.locations import Location, is_allowed, locate


def _allowed(settings: Settings) -> str:
    folders = ", ".join(str(f) for f in settings.store_directories) or "none"
    servers = ", ".join(settings.store_servers) or "none"
    return f"directories: {folders}; servers: {servers}"


def new_location(
    session: Session, settings: Settings, actor: User, raw: str | None, default: str
) -> Location:
    """Where a new environment's data store goes: `default` (ours, under the data directory)
    when no URL is named, else the named one if the actor may name it. Never a location
    another environment owns."""
    if raw is None or not raw.strip():
        location = locate(default)
    else:
        location = locate(raw)
        if not is_operator(actor):
            raise ERR.STORE_LOCATION_RESERVED.error(url=location.display)
        if not is_allowed(location, settings.store_directories, settings.store_servers):
            raise ERR.STORE_LOCATION_NOT_ALLOWED.error(
                url=location.display, allowed=_allowed(settings)
            )
    require_unclaimed(session, location)
    return location


def require_unclaimed(session: Session, location: Location) -> None:
    if session.get(DataStoreClaim, location.key) is not None:
        raise ERR.DATA_STORE_TAKEN.error(url=location.display)


def claim(
    session: Session,
    location: Location,
    tenant_id: int,
    *,
    fo_environment_id: int | None = None,
    platform_environment_id: str | None = None,
    job_id: int | None = None,
) -> DataStoreClaim:
    """Record the owner; the primary key on the identity makes a second owner impossible even
    when two requests race past `require_unclaimed`."""
    row = DataStoreClaim(
        identity=location.key,
        location=location.identity,
        tenant_id=tenant_id,
        fo_environment_id=fo_environment_id,
        platform_environment_id=platform_environment_id,
        job_id=job_id,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        raise ERR.DATA_STORE_TAKEN.error(url=location.display) from None
    return row


def hand_over(session: Session, job_id: int, platform_environment_id: str) -> None:
    """A provisioning job's location passes to the environment it created."""
    for row in session.scalars(select(DataStoreClaim).where(DataStoreClaim.job_id == job_id)):
        row.job_id, row.platform_environment_id = None, platform_environment_id
    session.flush()


def release_job(session: Session, job_id: int) -> None:
    """A provisioning job that failed gives its location back."""
    session.execute(delete(DataStoreClaim).where(DataStoreClaim.job_id == job_id))
