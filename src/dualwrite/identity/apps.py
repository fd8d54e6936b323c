"""Registered applications of a tenant, as Entra's app registrations: a client ID, a display
name and client secrets ("Certificates & secrets"). A secret's value is shown once, when it
is made; rotating adds a new one and lets the old ones live until a chosen time. Tenant Global
administrators and Power Platform administrators manage them."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from sqlalchemy import select
from sqlalchemy.orm import Session

from dualwrite.control.models import (
    ApplicationUser,
    ClientSecret,
    FoEnvironment,
    RegisteredApplication,
    User,
    as_utc,
    new_guid,
    utcnow,
)
from dualwrite.errors import ERR
from dualwrite.identity.authz import ADMIN_ROLES, require_role

DEFAULT_SECRET_DAYS = 180  # Entra's recommended lifetime
MAX_SECRET_DAYS = 730  # Entra's longest: 24 months


@dataclass(frozen=True)
class NewSecret:
    """A secret just made: `value` exists nowhere else, it is shown now or never."""

    secret: ClientSecret
    value: str


class SecretCheck(Enum):
    VALID = "valid"
    EXPIRED = "expired"
    WRONG = "wrong"


def _hash(value: str) -> str:
    # SHA-256 and no slow password hash: a secret is 240 random bits, so there is no
    # dictionary to try and nothing for a work factor to protect; the same as session tokens.
    return hashlib.sha256(value.encode()).hexdigest()


def _require_admin(actor: User, action: str) -> None:
    require_role(actor, actor.tenant_id, action, *ADMIN_ROLES)


def _display_name(name: str) -> str:
    name = name.strip()
    if not 1 <= len(name) <= 120:
        raise ERR.INVALID_INPUT.error(field="display name", problem="must be 1 to 120 characters")
    return name


def _expiry(days: int) -> datetime:
    if not 1 <= days <= MAX_SECRET_DAYS:
        raise ERR.INVALID_INPUT.error(
            field="secret lifetime", problem=f"{days} days; from 1 to {MAX_SECRET_DAYS}"
        )
    return utcnow() + timedelta(days=days)


def _add_secret(app: RegisteredApplication, days: int, description: str) -> NewSecret:
    description = description.strip()
    if len(description) > 200:
        raise ERR.INVALID_INPUT.error(field="description", problem="at most 200 characters")
    value = secrets.token_urlsafe(30)
    secret = ClientSecret(
        key_id=new_guid(),
        hint=value[:3],
        secret_hash=_hash(value),
        description=description,
        expires_at=_expiry(days),
    )
    app.secrets.append(secret)
    return NewSecret(secret, value)


def create_application(
    session: Session,
    actor: User,
    display_name: str,
    *,
    secret_days: int = DEFAULT_SECRET_DAYS,
    secret_description: str = "",
) -> tuple[RegisteredApplication, NewSecret]:
    """A new application of the actor's tenant with its first client secret."""
    _require_admin(actor, "Registering an application")
    app = RegisteredApplication(tenant_id=actor.tenant_id, display_name=_display_name(display_name))
    made = _add_secret(app, secret_days, secret_description)
    session.add(app)
    session.flush()
    return app, made


def list_applications(session: Session, actor: User) -> list[RegisteredApplication]:
    _require_admin(actor, "Listing registered applications")
    query = select(RegisteredApplication).where(RegisteredApplication.tenant_id == actor.tenant_id)
    return list(session.scalars(query.order_by(RegisteredApplication.display_name)))


def get_application(session: Session, actor: User, key: str) -> RegisteredApplication:
    """An application of the actor's tenant by client ID (or its display name when only one
    has it); other tenants' applications are as good as absent."""
    _require_admin(actor, "Managing registered applications")
    app = find_application(session, actor.tenant_id, key)
    if app is None:
        raise ERR.NOT_FOUND.error(kind="registered application", name=key, noun="app")
    return app


def find_application(session: Session, tenant_id: int, key: str) -> RegisteredApplication | None:
    key = key.strip()
    mine = select(RegisteredApplication).where(RegisteredApplication.tenant_id == tenant_id)
    found = session.scalar(mine.where(RegisteredApplication.client_id == key.lower()))
    if found is None:
        named = list(session.scalars(mine.where(RegisteredApplication.display_name == key)))
        found = named[0] if len(named) == 1 else None
    return found


def rotate_secret(
    session: Session,
    actor: User,
    app: RegisteredApplication,
    *,
    old_secrets_end: datetime | None = None,
    secret_days: int = DEFAULT_SECRET_DAYS,
    description: str = "",
) -> NewSecret:
    """A new secret; the current ones end at `old_secrets_end` (default now, never later
    than they would have)."""
    _require_admin(actor, "Rotating a client secret")
    now = utcnow()
    end = as_utc(old_secrets_end) if old_secrets_end is not None else now
    if end < now - timedelta(seconds=1):
        raise ERR.INVALID_INPUT.error(field="old secrets end", problem="is in the past")
    made = _add_secret(app, secret_days, description)
    for secret in app.secrets:
        if secret is not made.secret and as_utc(secret.expires_at) > end:
            secret.expires_at = end
    session.flush()
    return made


def update_application(
    session: Session,
    actor: User,
    app: RegisteredApplication,
    *,
    display_name: str | None = None,
    enabled: bool | None = None,
) -> RegisteredApplication:
    """Rename it, or disable it: a disabled application gets no tokens, and the tokens it has
    are refused by the environment APIs."""
    _require_admin(actor, "Changing a registered application")
    if display_name is not None:
        app.display_name = _display_name(display_name)
    if enabled is not None:
        app.enabled = enabled
    session.flush()
    return app


def dualwrite_pairs(session: Session, app: RegisteredApplication) -> list[str]:
    """The F&O environments whose dual-write application this is."""
    query = (
        select(FoEnvironment.name)
        .join(ApplicationUser, ApplicationUser.fo_environment_id == FoEnvironment.id)
        .where(ApplicationUser.application_id == app.client_id)
        .distinct()
    )
    return sorted(session.scalars(query))


def delete_application(session: Session, actor: User, app: RegisteredApplication) -> None:
    """Its secrets and application users go with it; the dual-write application's stays."""
    _require_admin(actor, "Deleting a registered application")
    pairs = dualwrite_pairs(session, app)
    if pairs:
        raise ERR.DUALWRITE_REGISTRATION.error(
            name=app.display_name, client_id=app.client_id, pairs=", ".join(pairs)
        )
    session.delete(app)
    session.flush()


def register_dualwrite_application(
    session: Session, tenant_id: int, client_id: str, display_name: str
) -> RegisteredApplication:
    """The dual-write application's ID as a registered application of the tenant, so its
    application users sign in like any application. It gets no secret here: an administrator
    rotates one to use it."""
    found = session.scalar(
        select(RegisteredApplication).where(RegisteredApplication.client_id == client_id)
    )
    if found is None:
        found = RegisteredApplication(
            tenant_id=tenant_id, client_id=client_id, display_name=display_name
        )
        session.add(found)
        session.flush()
    return found


def check_secret(app: RegisteredApplication, presented: str) -> SecretCheck:
    """Whether `presented` is one of the application's secrets, and still valid."""
    digest = _hash(presented)
    matching = [s for s in app.secrets if hmac.compare_digest(s.secret_hash, digest)]
    if not matching:
        return SecretCheck.WRONG
    now = utcnow()
    if all(as_utc(s.expires_at) <= now for s in matching):
        return SecretCheck.EXPIRED
    return SecretCheck.VALID


def secret_expiry(app: RegisteredApplication) -> datetime | None:
    """When the last of its secrets expires (None without any)."""
    return max((as_utc(s.expires_at) for s in app.secrets), default=None)
