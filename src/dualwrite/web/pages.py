"""Server-rendered pages: sign-in, sign-out, home, and the API docs from local assets."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated, Any

import swagger_ui_bundle
from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from dualwrite.api.auth_cookies import clear_session_cookie, set_session_cookie
from dualwrite.api.deps import SESSION_COOKIE, SettingsDep, StoreDep
from dualwrite.errors import ERR, DualWriteError
from dualwrite.identity import sessions
from dualwrite.identity.sessions import SessionKind
from dualwrite.schemas import UserRead

HERE = Path(__file__).parent
LOGIN_CSRF_COOKIE = "dw_login_csrf"
templates = Jinja2Templates(directory=HERE / "templates")
router = APIRouter(include_in_schema=False)


def _render(request: Request, page: str, status: int = 200, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, f"pages/{page}", context, status_code=status)


def _login_page(request: Request, error: DualWriteError | None = None, upn: str = "") -> Response:
    """The form carries a fresh token that must match its cookie (login CSRF protection)."""
    token = secrets.token_urlsafe(24)
    response = _render(
        request,
        "login.html",
        status=error.status if error else 200,
        login_csrf=token,
        error=error,
        upn=upn,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", path="/login", max_age=3600
    )
    return response


@router.get("/login")
def login_form(request: Request) -> Response:
    return _login_page(request)


@router.post("/login")
def login(
    request: Request,
    settings: SettingsDep,
    store: StoreDep,
    upn: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    login_csrf: Annotated[str, Form()] = "",
) -> Response:
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    try:
        if not cookie or not login_csrf or not secrets.compare_digest(cookie, login_csrf):
            raise ERR.CSRF_FAILED.error()
        signed = sessions.sign_in(store, settings, upn, password, SessionKind.COOKIE)
    except DualWriteError as error:
        return _login_page(request, error, upn)
    response = RedirectResponse("/", status_code=303)
    set_session_cookie(response, request, signed.token, settings.session_hours * 3600)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(
    request: Request,
    settings: SettingsDep,
    store: StoreDep,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        try:
            sessions.check_csrf(settings, token, csrf_token)
        except DualWriteError as error:
            return _render(request, "error.html", status=error.status, error=error)
        with store.session() as session:
            sessions.sign_out(session, token)
    response = RedirectResponse("/login", status_code=303)
    clear_session_cookie(response)
    return response


@router.get("/")
def home(request: Request, settings: SettingsDep, store: StoreDep) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    try:
        with store.session() as session:
            user = UserRead.of(sessions.authenticate(session, token, SessionKind.COOKIE))
    except DualWriteError:
        return RedirectResponse("/login", status_code=303)
    csrf = sessions.csrf_token(settings, token or "")
    return _render(request, "home.html", user=user, csrf_token=csrf)


@router.get("/docs")
def api_docs(request: Request) -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url=request.app.openapi_url,
        title="dualwrite API",
        swagger_js_url="/static/swagger/swagger-ui-bundle.js",
        swagger_css_url="/static/swagger/swagger-ui.css",
        swagger_favicon_url="/static/swagger/favicon-32x32.png",
    )


def install(app: FastAPI) -> None:
    app.mount(
        "/static/swagger", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), "swagger"
    )
    app.mount("/static", StaticFiles(directory=HERE / "static"), "static")
    app.include_router(router)
