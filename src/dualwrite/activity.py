"""Who is acting through which sign-in: the session ID and root activity ID that seed 002's
403 (tokenexchange) message shows, so an administrator can find the event in the server log."""

from __future__ import annotations

import logging
import uuid
from weakref import WeakKeyDictionary

from dualwrite.control.models import User
from dualwrite.errors import ERR, DualWriteError

log = logging.getLogger("dualwrite.activity")
_NAMESPACE = uuid.UUID("7d2f3c1e-5b8a-4f0e-9c61-0a4b7e9d2c55")
_sessions: WeakKeyDictionary[User, str] = WeakKeyDictionary()


def session_id_for(token_hash: str) -> str:
    """A stable, public ID of one sign-in (derived from the stored hash, never the token)."""
    return str(uuid.uuid5(_NAMESPACE, token_hash))


def bind(user: User, session_id: str) -> None:
    """Remember which sign-in the user object was loaded for (one request or command)."""
    _sessions[user] = session_id


def session_of(user: User) -> str:
    return _sessions.get(user) or str(uuid.uuid5(_NAMESPACE, f"user:{user.id}"))


def token_exchange_denied(user: User, action: str) -> DualWriteError:
    """Seed 002's 403 (tokenexchange), logged under a fresh root activity ID."""
    activity_id = str(uuid.uuid4())
    session_id = session_of(user)
    log.warning(
        "403 tokenexchange: %s by %s (session %s, root activity %s)",
        action,
        user.upn,
        session_id,
        activity_id,
        extra={
            "action": action,
            "user": user.upn,
            "session_id": session_id,
            "activity_id": activity_id,
        },
    )
    return ERR.TOKEN_EXCHANGE.error(session_id=session_id, activity_id=activity_id, action=action)
