"""What every page shares: templates, the signed-in user from the browser's cookie, the CSRF
token for forms, and rendering."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from dualwrite.api.deps import SESSION_COOKIE, SessionDep, get_current_user
from dualwrite.control.models import User
from dualwrite.errors import DualWriteError
from dualwrite.identity import sessions
from dualwrite.identity.sessions import SessionKind
from dualwrite.schemas import UserRead
from dualwrite.settings import Settings

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")


def page_user(request: Request, session: SessionDep) -> User:
    """Pages accept only the browser's session cookie, never a bearer token."""
    token = request.cookies.get(SESSION_COOKIE)
    return sessions.authenticate(session, token, SessionKind.COOKIE)


PageUser = Annotated[User, Depends(page_user)]
# Form posts: the cookie and the form's csrf_token field (checked by the API's dependency).
FormUser = Annotated[User, Depends(get_current_user)]


def render(
    request: Request,
    page: str,
    user: User | None = None,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    """A page with the header's user and the CSRF token every form of it carries."""
    if user is not None:
        settings: Settings = request.app.state.settings
        token = request.cookies.get(SESSION_COOKIE, "")
        context.setdefault("user", UserRead.of(user))
        context.setdefault("csrf_token", sessions.csrf_token(settings, token))
    return templates.TemplateResponse(request, f"pages/{page}", context, status_code=status)


def back_to(url: str) -> Response:
    """After a successful form post: the page again (POST → redirect → GET)."""
    return RedirectResponse(url, status_code=303)


def attempt(session: Session, action: Callable[[], object]) -> DualWriteError | None:
    """Run a form's service call in a savepoint. When the service refuses (a DW error), what it
    had changed is rolled back, not committed with the request, and the caller renders the
    page the form came from with the error inline."""
    try:
        with session.begin_nested():
            action()
    except DualWriteError as error:
        return error
    return None
