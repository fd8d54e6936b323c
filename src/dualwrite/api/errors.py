"""Every error a request can end in, rendered in one place: JSON problem details (RFC 9457) for
the API, an HTML page for the web UI."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dualwrite.databases import refused_value
from dualwrite.errors import ERR, DualWriteError

log = logging.getLogger("dualwrite.api")
PROBLEM = "application/problem+json"
API_PATHS = "/api/"


@dataclass(frozen=True)
class Problem:
    """What went wrong, independent of how it is shown."""

    status: int
    code: str | None  # None only for the framework's own errors (no such route or method)
    message: str
    hint: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)  # e.g. Allow on 405

    @classmethod
    def of(cls, error: DualWriteError) -> Problem:
        return cls(error.status, error.code, error.message, error.hint, error.details)

    @property
    def title(self) -> str:
        # With type "about:blank" RFC 9457 wants the HTTP status phrase as the title.
        return HTTPStatus(self.status).phrase

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": "about:blank",
            "title": self.title,
            "status": self.status,
            "code": self.code,
            "detail": self.message,
            "hint": self.hint,
        }
        if self.details:
            body["details"] = self.details
        return body


HtmlRenderer = Callable[[Request, Problem], Response]


def problem_response(problem: Problem) -> JSONResponse:
    headers = dict(problem.headers)
    if problem.status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(
        problem.body(), status_code=problem.status, media_type=PROBLEM, headers=headers
    )


def _field(error: dict[str, Any]) -> str:
    if error.get("type") == "json_invalid":  # its loc ends in a character position, not a name
        return "body"
    where = ("body", "query", "path", "header", "cookie")
    return ".".join(str(p) for p in error["loc"] if p not in where) or "request"


def _complaint(error: dict[str, Any]) -> str:
    if error.get("type") == "json_invalid":
        reason = (error.get("ctx") or {}).get("error")
        return f"is not valid JSON ({reason})" if reason else "is not valid JSON"
    return str(error["msg"]).lower()


def validation_problem(exc: RequestValidationError) -> DualWriteError:
    """DW1000 naming every field that failed and what is wrong with the first one."""
    errors = list(exc.errors()) or [{"loc": ("request",), "msg": "is invalid"}]
    fields = ", ".join(dict.fromkeys(_field(e) for e in errors))
    return ERR.INVALID_INPUT.error(field=fields, problem=_complaint(errors[0]))


def _problem(exc: Exception, request: Request) -> Problem:
    if isinstance(exc, DualWriteError):
        return Problem.of(exc)
    if isinstance(exc, RequestValidationError):
        return Problem.of(validation_problem(exc))
    if isinstance(exc, DataError):  # bad input that no check caught: say so, and log it
        log.warning(
            "a value reached the database unchecked on %s %s: %s",
            request.method,
            request.url.path,
            exc.orig,
            extra={"method": request.method, "path": request.url.path},
        )
        return Problem.of(refused_value(exc))
    if isinstance(exc, HTTPException):  # the framework's own
        if exc.status_code in (404, 405):  # no such route or method
            entry = ERR.NO_SUCH_ROUTE
            message, hint = str(exc.detail), entry.hint
        else:  # a body it could not parse (400), and the like
            bad = ERR.INVALID_INPUT.error(field="request", problem=str(exc.detail).lower())
            entry, message, hint = ERR.INVALID_INPUT, bad.message, bad.hint
        return Problem(exc.status_code, entry.code, message, hint, headers=dict(exc.headers or {}))
    log.error(
        "unexpected error on %s %s",
        request.method,
        request.url.path,
        exc_info=exc,
        extra={"method": request.method, "path": request.url.path},
    )
    return Problem.of(ERR.INTERNAL.error())


Renderer = Callable[[Request, Exception], Awaitable[Response]]


class RenderUnexpected:
    """Renders an unexpected error as DW0000 inside the app, so the exchange ends normally.

    Starlette gives a handler for `Exception` to its outermost middleware, which sends that
    handler's 500 and then re-raises the error (for the server to log). uvicorn, seeing an
    exception after the response started, closes the connection: a keep-alive client's next
    request on it was reset. Caught here, below that middleware, nothing is re-raised. An error
    after the response started still propagates: only closing the connection tells the client
    that the response it got is cut short."""

    def __init__(self, app: ASGIApp, render: Renderer) -> None:
        self.app, self.render = app, render

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception as exc:
            if started:
                raise
            response = await self.render(Request(scope, receive), exc)
            await response(scope, receive, send)


def install(app: FastAPI, html: HtmlRenderer | None = None) -> None:
    """Route every error to one renderer: API paths get JSON, other paths the HTML page."""

    async def render(request: Request, exc: Exception) -> Response:
        problem = _problem(exc, request)
        if html is not None and not request.url.path.startswith(API_PATHS):
            try:
                return html(request, problem)
            except Exception as failed:  # the error page itself broke: still answer
                log.error("cannot render the error page", exc_info=failed)
        return problem_response(problem)

    for kind in (DualWriteError, RequestValidationError, HTTPException):
        app.add_exception_handler(kind, render)
    app.add_middleware(RenderUnexpected, render=render)
    # The last resort, for an error in the middleware between the server and RenderUnexpected.
    app.add_exception_handler(Exception, render)
