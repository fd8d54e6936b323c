"""Sign-in: password check with throttling, session cookies and bearer tokens, CSRF tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from dualwrite import activity
from dualwrite.control.models import AuthSession, LoginFailure, User, as_utc, utcnow
from dualwrite.control.store import ControlStore
from dualwrite.errors import ERR
from dualwrite.identity.passwords import verify_password
from dualwrite.settings import Settings


class SessionKind(StrEnum):
    COOKIE = "cookie"  # browser: HttpOnly cookie, forms need the CSRF token
    BEARER = "bearer"  # API and CLI: Authorization header, no ambient credentials


@dataclass(frozen=True)
class SignIn:
    token: str
    user_id: int
    upn: str
    expires_at: datetime


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _throttle_wait(session: Session, settings: Settings, upn: str) -> int:
    """Seconds until `upn` may try again, 0 when it may now."""
    window_start = utcnow() - timedelta(seconds=settings.login_window_seconds)
    recent = select(LoginFailure.at).where(LoginFailure.upn == upn, LoginFailure.at > window_start)
    count = session.scalar(select(func.count()).select_from(recent.subquery())) or 0
    if count < settings.login_max_failures:
        return 0
    latest = session.scalar(select(func.max(LoginFailure.at)).where(LoginFailure.upn == upn))
    assert latest is not None  # noqa: S101 - count > 0 above
    unlock = as_utc(latest) + timedelta(seconds=settings.login_window_seconds)
    return max(1, int((unlock - utcnow()).total_seconds()))


def sign_in(
    store: ControlStore, settings: Settings, upn: str, password: str, kind: SessionKind
) -> SignIn:
    """Check the password and open a session. Failures are recorded even though we raise."""
    upn = upn.strip().lower()
    with store.session() as session:
        wait = _throttle_wait(session, settings, upn)
        if wait:
            raise ERR.SIGN_IN_THROTTLED.error(seconds=wait)
        user = session.scalar(select(User).where(User.upn == upn))
        ok = verify_password(user.password_hash if user else None, password)
        if ok and user is not None and user.is_active:
            session.execute(delete(LoginFailure).where(LoginFailure.upn == upn))
            token = secrets.token_urlsafe(32)
            expires = utcnow() + timedelta(hours=settings.session_hours)
            session.add(
                AuthSession(token_hash=_hash(token), user=user, kind=kind, expires_at=expires)
            )
            return SignIn(token=token, user_id=user.id, upn=user.upn, expires_at=expires)
    # One generic message whether the user exists or not; the failure counts either way.
    with store.session() as session:
        session.add(LoginFailure(upn=upn))
    raise ERR.SIGN_IN_FAILED.error()


def authenticate(session: Session, token: str | None, kind: SessionKind | None = None) -> User:
    """The user behind a session token, or DW3003 when it is unknown, expired or of another kind."""
    if not token:
        raise ERR.NOT_SIGNED_IN.error()
    record = session.scalar(select(AuthSession).where(AuthSession.token_hash == _hash(token)))
    if record is None or as_utc(record.expires_at) <= utcnow() or not record.user.is_active:
        raise ERR.NOT_SIGNED_IN.error()
    if kind is not None and record.kind != kind:
        raise ERR.NOT_SIGNED_IN.error()
    activity.bind(record.user, activity.session_id_for(record.token_hash))
    return record.user


def sign_out(session: Session, token: str) -> None:
    session.execute(delete(AuthSession).where(AuthSession.token_hash == _hash(token)))


def purge_expired(session: Session) -> int:
    result = session.execute(delete(AuthSession).where(AuthSession.expires_at <= utcnow()))
    return int(getattr(result, "rowcount", 0) or 0)


def csrf_token(settings: Settings, session_token: str) -> str:
    """Derived from the session, so forms can carry it without the server storing anything."""
    key = settings.secret_key.encode()
    return hmac.new(key, b"csrf:" + session_token.encode(), hashlib.sha256).hexdigest()


def check_csrf(settings: Settings, session_token: str, presented: str | None) -> None:
    if not presented or not hmac.compare_digest(csrf_token(settings, session_token), presented):
        raise ERR.CSRF_FAILED.error()
