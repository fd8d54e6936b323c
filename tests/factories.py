"""Test worlds built through the services themselves (no fixtures that bypass the rules)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from dualwrite.control.models import User
from dualwrite.identity import directory

PASSWORD = "correct horse battery staple"


def bootstrap(session: Session, domain: str = "contoso.onmicrosoft.com") -> User:
    """A tenant and its first Global administrator, as `dualwrite init` makes them."""
    _tenant, admin = directory.create_tenant(
        session,
        None,
        domain=domain,
        display_name=domain.split(".")[0].title(),
        admin_upn=f"admin@{domain}",
        admin_name="Tenant Admin",
        admin_password=PASSWORD,
    )
    return admin


def add_user(
    session: Session,
    admin: User,
    alias: str,
    roles: tuple[str, ...] = (),
    licenses: tuple[str, ...] = (),
) -> User:
    return directory.create_user(
        session,
        admin,
        upn=f"{alias}@{admin.tenant.domain}",
        display_name=alias.title(),
        password=PASSWORD,
        roles=roles,
        licenses=licenses,
    )
