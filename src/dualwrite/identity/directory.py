"""Tenants, users, directory roles and licenses: the directory that every other area trusts."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dualwrite.control.models import (
    DirectoryRole,
    License,
    LicenseAssignment,
    RoleAssignment,
    Tenant,
    User,
)
from dualwrite.errors import ERR
from dualwrite.identity.authz import (
    ADMIN_ROLES,
    is_operator,
    require_global_admin,
    require_operator,
    require_role,
    role_by_name,
)
from dualwrite.identity.passwords import hash_password

_DOMAIN = re.compile(r"^(?=.{3,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_UPN = re.compile(r"^[A-Za-z0-9._%+'-]{1,64}@(?P<domain>[^@\s]+)$")


def _text(field: str, value: str, max_length: int = 200) -> str:
    value = value.strip()
    if not value:
        raise ERR.INVALID_INPUT.error(field=field, problem="must not be empty")
    if len(value) > max_length:
        raise ERR.INVALID_INPUT.error(
            field=field, problem=f"is {len(value)} characters long; at most {max_length}"
        )
    return value


def _domain(domain: str) -> str:
    domain = domain.strip().lower()
    if not _DOMAIN.match(domain):
        raise ERR.INVALID_INPUT.error(
            field="domain", problem=f"'{domain}' is not a domain name like contoso.onmicrosoft.com"
        )
    return domain


def _check_capacity(gb: float) -> None:
    # NaN fails every comparison and Infinity cannot be shown as JSON: both are refused here,
    # whichever interface they come from.
    if not math.isfinite(gb) or gb < 0:
        raise ERR.INVALID_INPUT.error(
            field="database capacity", problem=f"{gb} is not a number of GB of at least 0"
        )


def role_from_name(name: str | DirectoryRole) -> DirectoryRole:
    return role_by_name(DirectoryRole, name, "directory")


# --- tenants ----------------------------------------------------------------------------------


def tenant_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Tenant)) or 0


def create_tenant(
    session: Session,
    actor: User | None,
    *,
    domain: str,
    display_name: str,
    admin_upn: str,
    admin_name: str,
    admin_password: str,
    everyone_can_create_environments: bool = True,
    database_capacity_gb: float = 10.0,
) -> tuple[Tenant, User]:
    """A tenant with its first Global administrator.

    Only an installation operator may add tenants (a tenant's Global administrator governs
    that tenant only); `actor=None` is the bootstrap by `dualwrite init`.
    """
    if actor is not None:
        require_operator(actor, "Creating a tenant")
    domain = _domain(domain)
    if session.scalar(select(Tenant).where(Tenant.domain == domain)):
        raise ERR.DUPLICATE_NAME.error(kind="tenant", name=domain)
    _check_capacity(database_capacity_gb)
    tenant = Tenant(
        domain=domain,
        display_name=_text("display name", display_name),
        everyone_can_create_environments=everyone_can_create_environments,
        database_capacity_gb=database_capacity_gb,
    )
    session.add(tenant)
    session.flush()
    admin = _new_user(session, tenant, admin_upn, admin_name, admin_password)
    admin.roles.append(RoleAssignment(role=DirectoryRole.GLOBAL_ADMIN))
    session.flush()
    return tenant, admin


def get_tenant(session: Session, domain: str) -> Tenant:
    tenant = session.scalar(select(Tenant).where(Tenant.domain == domain.strip().lower()))
    if tenant is None:
        raise ERR.NOT_FOUND.error(kind="tenant", name=domain, noun="tenant")
    return tenant


def find_tenant(session: Session, key: str) -> Tenant | None:
    """A tenant by its domain or its directory ID (as the identity platform's routes name it)."""
    key = key.strip().lower()
    if not key or "\x00" in key:  # no tenant has it, and PostgreSQL refuses NUL in a query
        return None
    return session.scalar(
        select(Tenant).where((Tenant.domain == key) | (Tenant.directory_id == key))
    )


def list_tenants(session: Session, actor: User) -> list[Tenant]:
    """Installation operators see every tenant; everyone else, Global administrators too,
    only their own."""
    if is_operator(actor):
        return list(session.scalars(select(Tenant).order_by(Tenant.domain)))
    return [actor.tenant]


def visible_tenant(session: Session, actor: User, domain: str) -> Tenant:
    """A tenant the actor may look at: its own, or any for an installation operator. Another
    tenant is as good as absent (the same 404 as a domain nobody has)."""
    tenant = session.scalar(select(Tenant).where(Tenant.domain == domain.strip().lower()))
    if tenant is None or (tenant.id != actor.tenant_id and not is_operator(actor)):
        raise ERR.NOT_FOUND.error(kind="tenant", name=domain, noun="tenant")
    return tenant


def update_tenant_settings(
    session: Session,
    actor: User,
    tenant: Tenant,
    *,
    everyone_can_create_environments: bool | None = None,
    database_capacity_gb: float | None = None,
) -> Tenant:
    """Power Platform settings (governance, capacity): Global or Power Platform administrators."""
    require_role(actor, tenant.id, "Changing Power Platform settings", *ADMIN_ROLES)
    if database_capacity_gb is not None:
        _check_capacity(database_capacity_gb)
        tenant.database_capacity_gb = database_capacity_gb
    if everyone_can_create_environments is not None:
        tenant.everyone_can_create_environments = everyone_can_create_environments
    session.flush()
    return tenant


# --- users --------------------------------------------------------------------------------------


def valid_upn(upn: str, example_domain: str = "contoso.onmicrosoft.com") -> str:
    """A user principal name, normalised (DW1000 naming the problem when it is none)."""
    upn = upn.strip().lower()
    if not _UPN.match(upn):
        raise ERR.INVALID_INPUT.error(
            field="user principal name", problem=f"'{upn}' is not like alias@{example_domain}"
        )
    return upn


def _new_user(session: Session, tenant: Tenant, upn: str, name: str, password: str) -> User:
    upn = valid_upn(upn, tenant.domain)
    if not upn.endswith(f"@{tenant.domain}"):
        raise ERR.INVALID_INPUT.error(
            field="user principal name",
            problem=f"'{upn}' must end with @{tenant.domain}, the tenant's domain",
        )
    if session.scalar(select(User).where(User.upn == upn)):
        raise ERR.DUPLICATE_NAME.error(kind="user", name=upn)
    user = User(
        tenant=tenant,
        upn=upn,
        display_name=_text("display name", name),
        password_hash=hash_password(password),
    )
    session.add(user)
    return user


def create_user(
    session: Session,
    actor: User,
    *,
    upn: str,
    display_name: str,
    password: str,
    roles: Iterable[str | DirectoryRole] = (),
    licenses: Iterable[str] = (),
) -> User:
    """A user in the actor's tenant; only a Global administrator adds users and grants roles."""
    require_global_admin(actor, actor.tenant_id, "Adding a user")
    wanted_roles = {role_from_name(r) for r in roles}
    wanted_licenses = [_license(session, sku) for sku in dict.fromkeys(licenses)]
    user = _new_user(session, actor.tenant, upn, display_name, password)
    user.roles.extend(RoleAssignment(role=r) for r in sorted(wanted_roles))
    user.licenses.extend(LicenseAssignment(sku=lic.sku) for lic in wanted_licenses)
    session.flush()
    return user


def get_user(session: Session, upn: str) -> User:
    user = session.scalar(select(User).where(User.upn == upn.strip().lower()))
    if user is None:
        raise ERR.NOT_FOUND.error(kind="user", name=upn, noun="user")
    return user


def list_users(session: Session, actor: User) -> list[User]:
    return list(
        session.scalars(select(User).where(User.tenant_id == actor.tenant_id).order_by(User.upn))
    )


def visible_user(session: Session, actor: User, upn: str) -> User:
    """Users see the users of their own tenant; others are as good as absent."""
    user = get_user(session, upn)
    if user.tenant_id != actor.tenant_id:
        raise ERR.NOT_FOUND.error(kind="user", name=upn, noun="user")
    return user


def assign_role(session: Session, actor: User, upn: str, role: str | DirectoryRole) -> User:
    """Only a Global administrator can grant directory roles (seed 003)."""
    require_global_admin(actor, actor.tenant_id, "Assigning a directory role")
    user = visible_user(session, actor, upn)
    wanted = role_from_name(role)
    if not user.has_role(wanted):
        user.roles.append(RoleAssignment(role=wanted))
    session.flush()
    return user


def remove_role(session: Session, actor: User, upn: str, role: str | DirectoryRole) -> User:
    require_global_admin(actor, actor.tenant_id, "Removing a directory role")
    user = visible_user(session, actor, upn)
    wanted = role_from_name(role)
    last_admin = (
        wanted is DirectoryRole.GLOBAL_ADMIN
        and user.has_role(wanted)
        and _global_admin_count(session, user.tenant_id) == 1
    )
    if last_admin:
        raise ERR.INVALID_INPUT.error(
            field="role",
            problem=f"{user.upn} is the tenant's last Global administrator; "
            "grant the role to someone else first",
        )
    user.roles = [r for r in user.roles if r.role is not wanted]
    session.flush()
    return user


def _global_admin_count(session: Session, tenant_id: int) -> int:
    query = (
        select(func.count())
        .select_from(RoleAssignment)
        .join(User, User.id == RoleAssignment.user_id)
        .where(User.tenant_id == tenant_id, RoleAssignment.role == DirectoryRole.GLOBAL_ADMIN)
    )
    return session.scalar(query) or 0


# --- licenses ------------------------------------------------------------------------------------


def license_catalogue(session: Session) -> list[License]:
    return list(session.scalars(select(License).order_by(License.name)))


def _license(session: Session, sku_or_name: str) -> License:
    wanted = sku_or_name.strip()
    lic = session.get(License, wanted.upper()) or session.scalar(
        select(License).where(func.lower(License.name) == wanted.lower())
    )
    if lic is None:
        known = ", ".join(lic.sku for lic in license_catalogue(session))
        raise ERR.UNKNOWN_LICENSE.error(sku=sku_or_name, known=known)
    return lic


def assign_license(session: Session, actor: User, upn: str, sku: str) -> User:
    require_global_admin(actor, actor.tenant_id, "Assigning a license")
    user = visible_user(session, actor, upn)
    lic = _license(session, sku)
    if all(a.sku != lic.sku for a in user.licenses):
        user.licenses.append(LicenseAssignment(sku=lic.sku))
    session.flush()
    return user


def remove_license(session: Session, actor: User, upn: str, sku: str) -> User:
    require_global_admin(actor, actor.tenant_id, "Removing a license")
    user = visible_user(session, actor, upn)
    lic = _license(session, sku)
    user.licenses = [a for a in user.licenses if a.sku != lic.sku]
    session.flush()
    return user


def qualifying_licenses(session: Session, user: User) -> list[License]:
    """The user's licenses that qualify for Power Platform integration (seed 003)."""
    skus = [a.sku for a in user.licenses]
    if not skus:
        return []
    query = select(License).where(License.sku.in_(skus), License.qualifies_for_fo.is_(True))
    return list(session.scalars(query))
