"""Sign-in: password check with throttling, session cookies and bearer tokens, CSRF tokens."""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import delete, or_, select
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


# Where a sign-in comes from when it is not over HTTP (the CLI on this machine).
LOCAL_SOURCE = "local"


def _wait_after(settings: Settings, failures: list[datetime], limit: int) -> float:
    """Seconds still to wait once `failures` reached `limit`: the first wait doubles with every
    failure past it, never longer than the window."""
    over = len(failures) - limit
    delay = min(settings.login_backoff_seconds * 2**over, settings.login_window_seconds)
    unlock = max(as_utc(at) for at in failures) + timedelta(seconds=delay)
    return (unlock - utcnow()).total_seconds()


def _throttle_wait(session: Session, settings: Settings, upn: str, source: str) -> int:
    """Seconds until `upn` may try again from `source`, 0 when it may now.

    OWASP's advice against lock-out: failures hold back the address they came from — for the
    account (after `login_max_failures`) and for any account (after `login_source_max_
    failures`) — with a wait that doubles per further failure. An account failing from many
    addresses (`login_account_max_failures`) makes every address that failed on it wait at
    once; an address that has not failed is never refused, so its owner can still sign in.
    """
    start = utcnow() - timedelta(seconds=settings.login_window_seconds)
    rows = session.execute(
        select(LoginFailure.upn, LoginFailure.source, LoginFailure.at).where(
            LoginFailure.at > start, or_(LoginFailure.upn == upn, LoginFailure.source == source)
        )
    ).all()
    pair = [at for u, s, at in rows if u == upn and s == source]
    from_source = [at for _u, s, at in rows if s == source]
    account_failures = sum(1 for u, _s, _at in rows if u == upn)
    waits = [0.0]
    if len(pair) >= settings.login_max_failures:
        waits.append(_wait_after(settings, pair, settings.login_max_failures))
    if len(from_source) >= settings.login_source_max_failures:
        waits.append(_wait_after(settings, from_source, settings.login_source_max_failures))
    if pair and account_failures >= settings.login_account_max_failures:
        waits.append(_wait_after(settings, pair, 1))
    wait = max(waits)
    return math.ceil(wait) if wait > 0 else 0


def _record_failure(store: ControlStore, settings: Settings, upn: str, source: str) -> None:
    with store.session() as session:
        session.add(LoginFailure(upn=upn, source=source[:64]))
        # Failures older than the window no longer count: the table stays small.
        start = utcnow() - timedelta(seconds=settings.login_window_seconds)
        session.execute(delete(LoginFailure).where(LoginFailure.at < start))


def _checked_user(
    session: Session, settings: Settings, upn: str, password: str, source: str
) -> User | None:
    """The active user the password belongs to, or None; DW3002 while `source` must wait.
    A success forgets the failures of that account from that address."""
    wait = _throttle_wait(session, settings, upn, source)
    if wait:
        raise ERR.SIGN_IN_THROTTLED.error(seconds=wait)
    user = session.scalar(select(User).where(User.upn == upn))
    ok = verify_password(user.password_hash if user else None, password)
    if not (ok and user is not None and user.is_active):
        return None
    session.execute(
        delete(LoginFailure).where(LoginFailure.upn == upn, LoginFailure.source == source)
    )
    return user


def sign_in(
    store: ControlStore,
    settings: Settings,
    upn: str,
    password: str,
    kind: SessionKind,
    *,
    source: str,
) -> SignIn:
    """Check the password and open a session; `source` is the address the attempt comes from.
    Failures are recorded even though we raise."""
    upn = upn.strip().lower()
    source = source or "unknown"
    with store.session() as session:
        user = _checked_user(session, settings, upn, password, source)
        if user is not None:
            token = secrets.token_urlsafe(32)
            expires = utcnow() + timedelta(hours=settings.session_hours)
            session.add(
                AuthSession(token_hash=_hash(token), user=user, kind=kind, expires_at=expires)
            )
            return SignIn(token=token, user_id=user.id, upn=user.upn, expires_at=expires)
    # One generic message whether the user exists or not; the failure counts either way.
    _record_failure(store, settings, upn, source)
    raise ERR.SIGN_IN_FAILED.error()


def check_password(
    store: ControlStore, settings: Settings, upn: str, password: str, *, source: str
) -> int:
    """The ID of the user whose password this is, opening no session (the token service's
    password grant), with the same throttling and recorded failures as `sign_in`."""
    upn = upn.strip().lower()
    source = source or "unknown"
    with store.session() as session:
        user = _checked_user(session, settings, upn, password, source)
        if user is not None:
            return user.id
    _record_failure(store, settings, upn, source)
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
