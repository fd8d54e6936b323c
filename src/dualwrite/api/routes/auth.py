"""Sign-in for API clients (bearer tokens) and browsers (session cookie + CSRF token)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from dualwrite.api.auth_cookies import clear_session_cookie, set_session_cookie
from dualwrite.api.deps import SettingsDep, StoreDep, WorkDep
from dualwrite.identity import sessions
from dualwrite.identity.sessions import SessionKind
from dualwrite.schemas import MeRead, SignInRequest, TokenRead, UserRead

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/token", response_model=TokenRead)
def token(body: SignInRequest, settings: SettingsDep, store: StoreDep) -> TokenRead:
    signed = sessions.sign_in(store, settings, body.upn, body.password, SessionKind.BEARER)
    return TokenRead(access_token=signed.token, expires_at=signed.expires_at)


@router.post("/login", response_model=MeRead)
def login(
    body: SignInRequest,
    request: Request,
    response: Response,
    settings: SettingsDep,
    store: StoreDep,
) -> MeRead:
    signed = sessions.sign_in(store, settings, body.upn, body.password, SessionKind.COOKIE)
    set_session_cookie(response, request, signed.token, settings.session_hours * 3600)
    with store.session() as session:
        user = sessions.authenticate(session, signed.token)
        me = UserRead.of(user).model_dump()
    return MeRead(**me, csrf_token=sessions.csrf_token(settings, signed.token))


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(response: Response, work: WorkDep) -> None:
    with work as (session, _actor):
        sessions.sign_out(session, work.token)
    clear_session_cookie(response)


@router.get("/me", response_model=MeRead)
def me(work: WorkDep, settings: SettingsDep) -> MeRead:
    with work as (_session, actor):
        user = UserRead.of(actor).model_dump()
    csrf = sessions.csrf_token(settings, work.token) if work.kind is SessionKind.COOKIE else None
    return MeRead(**user, csrf_token=csrf)
