"""Request dependencies: settings, store, and the signed-in user's unit of work (with CSRF)."""

from __future__ import annotations

from contextlib import ExitStack
from types import TracebackType
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from dualwrite.control.models import User
from dualwrite.control.store import ControlStore
from dualwrite.errors import ERR
from dualwrite.identity import sessions
from dualwrite.identity.sessions import SessionKind
from dualwrite.settings import Settings

SESSION_COOKIE = "dw_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_store(request: Request) -> ControlStore:
    store: ControlStore = request.app.state.store
    return store


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[ControlStore, Depends(get_store)]


def credentials(request: Request) -> tuple[str, SessionKind] | None:
    """The presented token: a bearer header wins over the browser's session cookie."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip(), SessionKind.BEARER
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        return cookie, SessionKind.COOKIE
    return None


class Work:
    """One unit of work as the signed-in user: `with work as (session, actor): ...`.

    The transaction commits when the block ends, before the response is sent, so a client never
    sees success for something that did not commit."""

    def __init__(self, store: ControlStore, token: str, kind: SessionKind) -> None:
        self.store, self.token, self.kind = store, token, kind
        self._stack = ExitStack()

    def __enter__(self) -> tuple[Session, User]:
        session = self._stack.enter_context(self.store.session())
        try:
            return session, sessions.authenticate(session, self.token, self.kind)
        except BaseException:
            self._stack.close()
            raise

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Never swallows: an error rolls the unit back and reaches the error handlers.
        self._stack.__exit__(exc_type, exc, tb)


async def get_work(request: Request, settings: SettingsDep, store: StoreDep) -> Work:
    found = credentials(request)
    if found is None:
        raise ERR.NOT_SIGNED_IN.error()
    token, kind = found
    if kind is SessionKind.COOKIE and request.method not in SAFE_METHODS:
        presented = request.headers.get(CSRF_HEADER)
        if presented is None and "form" in request.headers.get("content-type", ""):
            presented = str((await request.form()).get("csrf_token", "")) or None
        sessions.check_csrf(settings, token, presented)
    return Work(store, token, kind)


WorkDep = Annotated[Work, Depends(get_work)]
