"""Authorization rules shared by every service: who may do what, with one message shape."""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

from dualwrite.control.models import DirectoryRole, User
from dualwrite.errors import ERR

R = TypeVar("R", bound=StrEnum)

ADMIN_ROLES = (DirectoryRole.GLOBAL_ADMIN, DirectoryRole.POWER_PLATFORM_ADMIN)


def require_role(actor: User, tenant_id: int, action: str, *roles: DirectoryRole) -> None:
    """The actor must belong to `tenant_id` and hold one of `roles` there."""
    if actor.tenant_id == tenant_id and actor.has_role(*roles):
        return
    names = " or ".join(r.value for r in roles)
    raise ERR.NOT_ALLOWED.error(
        action=action, requirement=f"the {names} role in this tenant", who=names
    )


def require_global_admin(actor: User, tenant_id: int, action: str) -> None:
    require_role(actor, tenant_id, action, DirectoryRole.GLOBAL_ADMIN)


def is_operator(actor: User) -> bool:
    """An installation operator acts above tenants (see `installation.operators`)."""
    return bool(actor.is_operator)


def require_operator(actor: User, action: str) -> None:
    if not is_operator(actor):
        raise ERR.NOT_ALLOWED.error(
            action=action,
            requirement="an installation operator (a tenant's Global administrator governs "
            "only that tenant)",
            who="installation operator",
        )


def role_by_name(roles: type[R], name: str | R, kind: str) -> R:
    """Accept a role's value ('Global administrator') or short name ('global-admin')."""
    if isinstance(name, roles):
        return name
    wanted = str(name).strip().lower().replace("_", "-")
    for role in roles:
        if wanted in (role.value.lower(), role.name.lower().replace("_", "-")):
            return role
    known = ", ".join(r.name.lower().replace("_", "-") for r in roles)
    raise ERR.UNKNOWN_ROLE.error(role=name, kind=kind, known=known)
