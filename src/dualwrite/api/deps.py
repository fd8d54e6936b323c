"""Request dependencies: settings, store, the unit of work, the signed-in user (with CSRF)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from dualwrite.control.models import User
from dualwrite.control.store import ControlStore
from dualwrite.errors import ERR
from dualwrite.identity import sessions
from dualwrite.identity.sessions import SessionKind
from dualwrite.settings import Settings

SESSION_COOKIE = "dw_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_store(request: Request) -> ControlStore:
    store: ControlStore = request.app.state.store
    return store


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[ControlStore, Depends(get_store)]


def get_session(store: StoreDep) -> Iterator[Session]:
    """One unit of work per request: committed when the route returns, rolled back on error."""
    with store.session() as session:
        yield session


# scope="function" ends the unit of work when the route returns, before the response is sent:
# a client never sees success for something that did not commit.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


@dataclass(frozen=True)
class Credentials:
    """The token a request presented and how: bearer header or browser cookie."""

    token: str
    kind: SessionKind


# Declared as security schemes so the OpenAPI description (and /docs' Authorize button) show
# how to sign in; auto_error=False because either one will do and DW3003 says what is missing.
_bearer = HTTPBearer(
    auto_error=False, description="A token from POST /api/v1/auth/token.", scheme_name="bearerToken"
)
_cookie = APIKeyCookie(
    name=SESSION_COOKIE,
    auto_error=False,
    description="The browser session from POST /api/v1/auth/login; writes also need the "
    f"{CSRF_HEADER} header.",
    scheme_name="sessionCookie",
)


async def _presented_csrf(request: Request) -> str | None:
    presented = request.headers.get(CSRF_HEADER)
    content_type = request.headers.get("content-type", "")
    if presented is None and content_type.startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        presented = str((await request.form()).get(CSRF_FIELD, "")) or None
    return presented


async def get_credentials(
    request: Request,
    settings: SettingsDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    cookie: Annotated[str | None, Depends(_cookie)],
) -> Credentials:
    """The presented token, a bearer header winning over the cookie. Cookie-borne unsafe requests
    must also carry the CSRF token: another site can make the browser send the cookie, but it
    cannot read the token."""
    if bearer is not None:
        return Credentials(bearer.credentials.strip(), SessionKind.BEARER)
    if not cookie:
        raise ERR.NOT_SIGNED_IN.error()
    found = Credentials(cookie, SessionKind.COOKIE)
    if request.method not in SAFE_METHODS:
        sessions.check_csrf(settings, found.token, await _presented_csrf(request))
    return found


CredentialsDep = Annotated[Credentials, Depends(get_credentials)]


def get_current_user(session: SessionDep, credentials: CredentialsDep) -> User:
    return sessions.authenticate(session, credentials.token, credentials.kind)


CurrentUser = Annotated[User, Depends(get_current_user)]
