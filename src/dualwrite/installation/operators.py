"""Installation operators: the people who run this dualwrite installation for every tenant.

A tenant's Global administrator governs that tenant only. Creating tenants, looking at other
tenants, restarting the shared sync worker and naming where a data store lives are the
operator's; `dualwrite init` makes the first administrator one.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dualwrite.control.models import User
from dualwrite.errors import ERR
from dualwrite.identity.authz import require_operator
from dualwrite.identity.directory import get_user


def list_operators(session: Session, actor: User) -> list[User]:
    require_operator(actor, "Listing installation operators")
    return list(session.scalars(select(User).where(User.is_operator).order_by(User.upn)))


def operator_count(session: Session) -> int:
    query = select(func.count()).select_from(User).where(User.is_operator)
    return session.scalar(query) or 0


def make_operator(session: Session, user: User) -> User:
    """Without a check: for `dualwrite init`, which makes the first administrator one."""
    user.is_operator = True
    session.flush()
    return user


def grant_operator(session: Session, actor: User, upn: str) -> User:
    require_operator(actor, "Making someone an installation operator")
    return make_operator(session, get_user(session, upn))


def revoke_operator(session: Session, actor: User, upn: str) -> User:
    require_operator(actor, "Removing an installation operator")
    user = get_user(session, upn)
    if user.is_operator and operator_count(session) == 1:
        raise ERR.INVALID_INPUT.error(
            field="operator",
            problem=f"{user.upn} is the installation's last operator; make someone else one "
            "first (`dualwrite operator grant <upn>`)",
        )
    user.is_operator = False
    session.flush()
    return user
