"""Request dependencies: settings, store, the unit of work, the signed-in user (with CSRF)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlsplit

import pydantic
from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from dualwrite.control.models import User
from dualwrite.control.store import ControlStore
from dualwrite.errors import ERR
from dualwrite.identity import sessions
from dualwrite.identity.resources import normalise_base
from dualwrite.identity.sessions import SessionKind
from dualwrite.schemas import SignInRequest
from dualwrite.settings import Settings

SESSION_COOKIE = "dw_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_store(request: Request) -> ControlStore:
    store: ControlStore = request.app.state.store
    return store


def client_address(request: Request) -> str:
    """The address a request comes from, as sign-in throttling counts it (behind a proxy,
    run uvicorn with --forwarded-allow-ips so this is the client's, not the proxy's)."""
    return request.client.host if request.client else "unknown"


def request_base(request: Request) -> str:
    """The server as this request reached it: scheme (https behind a trusted proxy, from
    X-Forwarded-Proto as uvicorn reads it), host and port from the Host header. Token
    issuers, resources and the discovery documents are under it."""
    return normalise_base(str(request.base_url))


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


def _is_form(request: Request) -> bool:
    return request.headers.get("content-type", "").startswith(FORM_TYPES)


async def _presented_csrf(request: Request) -> str | None:
    presented = request.headers.get(CSRF_HEADER)
    if presented is None and _is_form(request):
        presented = str((await request.form()).get(CSRF_FIELD, "")) or None
    # Our tokens are hex; anything else is no token (compare_digest raises on non-ASCII str).
    return presented if presented is not None and presented.isascii() else None


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


def _refuse_cross_site(request: Request) -> None:
    """A form on another site could sign the visitor in to the attacker's account (login CSRF).
    Browsers name the sender in Sec-Fetch-Site / Origin; clients that send neither are not
    browsers, so no third party can make them post."""
    fetch_site = request.headers.get("sec-fetch-site")
    origin = request.headers.get("origin")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        raise ERR.CSRF_FAILED.error()
    if origin is not None and urlsplit(origin).netloc != request.url.netloc:
        raise ERR.CSRF_FAILED.error()


async def _sign_in_data(request: Request) -> Any:
    if _is_form(request):
        _refuse_cross_site(request)
        form = await request.form()
        return {k: v for k, v in form.items() if isinstance(v, str)}
    content_type = request.headers.get("content-type", "application/json")
    if not content_type.startswith("application/json"):
        raise ERR.INVALID_INPUT.error(field="body", problem="send JSON or an HTML form")
    try:
        return await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        if isinstance(exc, UnicodeDecodeError):
            where, reason = exc.start, "not UTF-8 text"
        else:
            where, reason = exc.pos, exc.msg
        error = {
            "type": "json_invalid",
            "loc": ("body", where),
            "msg": "JSON decode error",
            "ctx": {"error": reason},
        }
        raise RequestValidationError([error]) from exc


async def sign_in_body(request: Request) -> SignInRequest:
    """The credentials as JSON (API clients, scripts) or as a form (plain HTML forms)."""
    data = await _sign_in_data(request)
    try:
        return SignInRequest.model_validate(data)
    except pydantic.ValidationError as exc:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_input=False)]
        raise RequestValidationError(errors) from exc


SignInBody = Annotated[SignInRequest, Depends(sign_in_body)]
# The body sign_in_body reads, for the OpenAPI description (FastAPI cannot see into it).
SIGN_IN_BODY_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            media: {"schema": {"$ref": "#/components/schemas/SignInRequest"}}
            for media in ("application/json", FORM_TYPES[0])
        },
    }
}
