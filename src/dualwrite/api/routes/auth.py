"""Sign-in for API clients (bearer tokens) and browsers (session cookie + CSRF token)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from dualwrite.api.auth_cookies import clear_session_cookie, set_session_cookie
from dualwrite.api.deps import (
    SIGN_IN_BODY_DOC,
    CredentialsDep,
    CurrentUser,
    SessionDep,
    SettingsDep,
    SignInBody,
    StoreDep,
    client_address,
)
from dualwrite.identity import sessions
from dualwrite.identity.sessions import SessionKind
from dualwrite.schemas import MeRead, SignInRequest, TokenRead, UserRead

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/token", response_model=TokenRead)
def token(
    body: SignInRequest, request: Request, settings: SettingsDep, store: StoreDep
) -> TokenRead:
    """Sign in for API clients: the token goes in `Authorization: Bearer <token>`."""
    signed = sessions.sign_in(
        store,
        settings,
        body.upn,
        body.password,
        SessionKind.BEARER,
        source=client_address(request),
    )
    return TokenRead(access_token=signed.token, expires_at=signed.expires_at)


@router.post("/login", response_model=MeRead, openapi_extra=SIGN_IN_BODY_DOC)
def login(
    body: SignInBody,
    request: Request,
    response: Response,
    settings: SettingsDep,
    store: StoreDep,
    session: SessionDep,
) -> MeRead:
    """Sign in for browsers (JSON or a same-site form): sets the session cookie; writes then
    need the returned csrf_token in the X-CSRF-Token header."""
    # sign_in commits on its own: a failed attempt must be recorded even though it raises.
    signed = sessions.sign_in(
        store,
        settings,
        body.upn,
        body.password,
        SessionKind.COOKIE,
        source=client_address(request),
    )
    set_session_cookie(response, request, signed.token, settings.session_hours * 3600)
    user = UserRead.of(sessions.authenticate(session, signed.token, SessionKind.COOKIE))
    return MeRead(**user.model_dump(), csrf_token=sessions.csrf_token(settings, signed.token))


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(
    response: Response, session: SessionDep, credentials: CredentialsDep, _actor: CurrentUser
) -> None:
    """Revoke the presented token (bearer or cookie) and clear the session cookie."""
    sessions.sign_out(session, credentials.token)
    clear_session_cookie(response)


@router.get("/me", response_model=MeRead)
def me(actor: CurrentUser, credentials: CredentialsDep, settings: SettingsDep) -> MeRead:
    """The signed-in user; cookie sessions also get the CSRF token their writes need."""
    cookie = credentials.kind is SessionKind.COOKIE
    csrf = sessions.csrf_token(settings, credentials.token) if cookie else None
    return MeRead(**UserRead.of(actor).model_dump(), csrf_token=csrf)
