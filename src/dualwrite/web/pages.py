"""Server-rendered pages: sign-in, sign-out, home, error pages, and the API docs (local assets)."""

from __future__ import annotations

import secrets
from typing import Annotated, Any
from urllib.parse import urlsplit

import swagger_ui_bundle
from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from dualwrite.api.app import API_PREFIX
from dualwrite.api.auth_cookies import clear_session_cookie, set_session_cookie
from dualwrite.api.deps import (
    CredentialsDep,
    SessionDep,
    SettingsDep,
    StoreDep,
    client_address,
)
from dualwrite.api.errors import Problem
from dualwrite.errors import ERR, DualWriteError
from dualwrite.identity import sessions
from dualwrite.identity.sessions import SessionKind
from dualwrite.web.common import HERE, PageUser, render, templates

LOGIN_CSRF_COOKIE = "dw_login_csrf"
LOGIN_CSRF_FIELD = "login_csrf"
router = APIRouter(include_in_schema=False)


def _render(request: Request, page: str, status: int = 200, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, f"pages/{page}", context, status_code=status)


def render_problem(request: Request, problem: Problem) -> Response:
    """The web UI's error page; a page that needs a session sends anonymous visitors to sign in.
    It links back to the page the failed form was on (same site only)."""
    if problem.status == 401 and problem.code == "DW3003":
        return RedirectResponse("/login", status_code=303)
    referer = urlsplit(request.headers.get("referer", ""))
    back = referer.path + (f"?{referer.query}" if referer.query else "")
    same_site = referer.netloc == request.url.netloc and back.startswith("/")
    return _render(
        request, "error.html", status=problem.status, error=problem, back=back if same_site else "/"
    )


def _login_page(request: Request, error: DualWriteError | None = None, upn: str = "") -> Response:
    """Each form carries a fresh token that must come back with its cookie (login CSRF: another
    site cannot sign the browser in to an account of its choosing)."""
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
        LOGIN_CSRF_COOKIE,
        token,
        max_age=3600,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/login",
    )
    return response


def _check_login_csrf(request: Request, presented: str) -> None:
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    # As bytes: compare_digest refuses str with non-ASCII characters (a TypeError, not "no").
    same = secrets.compare_digest(cookie.encode(), presented.encode())
    if not cookie or not presented or not same:
        raise ERR.CSRF_FAILED.error()


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
    try:
        _check_login_csrf(request, login_csrf)
        signed = sessions.sign_in(
            store, settings, upn, password, SessionKind.COOKIE, source=client_address(request)
        )
    except DualWriteError as error:
        # The form again, with the catalogue's message and the error's status (401, 403, 429).
        return _login_page(request, error, upn)
    response = RedirectResponse("/", status_code=303)
    set_session_cookie(response, request, signed.token, settings.session_hours * 3600)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(credentials: CredentialsDep, session: SessionDep) -> Response:
    """Needs the form's csrf_token (checked by CredentialsDep) so no other site can sign us out."""
    sessions.sign_out(session, credentials.token)
    response = RedirectResponse("/login", status_code=303)
    clear_session_cookie(response)
    return response


@router.get("/")
def home(request: Request, user: PageUser) -> Response:
    return render(request, "home.html", user)


@router.get("/docs")
def api_docs(request: Request) -> HTMLResponse:
    """Swagger UI from the swagger-ui-bundle package's files: no CDN."""
    return get_swagger_ui_html(
        openapi_url=request.app.openapi_url,
        title="dualwrite API",
        swagger_js_url="/static/swagger/swagger-ui-bundle.js",
        swagger_css_url="/static/swagger/swagger-ui.css",
        swagger_favicon_url="/static/swagger/favicon-32x32.png",
    )


@router.get(f"{API_PREFIX}/docs")
def api_docs_alias() -> Response:
    return RedirectResponse("/docs", status_code=307)


@router.get("/openapi.json")
def openapi_alias(request: Request) -> Response:
    """Where tools look first: the same description as under the API prefix, served here
    too (a redirect trips clients that do not follow one)."""
    return JSONResponse(request.app.openapi())


def install(app: FastAPI) -> None:
    from dualwrite.web import (
        appusers_pages,
        dualwrite_pages,
        lcs,
        map_pages,
        platform_pages,
        records_pages,
    )

    app.mount(
        "/static/swagger", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), "swagger"
    )
    app.mount("/static", StaticFiles(directory=HERE / "static"), "static")
    app.include_router(router)
    modules = (lcs, appusers_pages, platform_pages, dualwrite_pages, map_pages, records_pages)
    for module in modules:
        app.include_router(module.router)
