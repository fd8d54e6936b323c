"""Rendering of every error as JSON problem details (RFC 9457) — the API's one place for it."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from dualwrite.errors import ERR, DualWriteError

log = logging.getLogger("dualwrite.api")
PROBLEM = "application/problem+json"


def problem(error: DualWriteError) -> JSONResponse:
    body = {
        "type": "about:blank",
        "title": type(error).__name__.replace("Error", " error").strip(),
        "status": error.status,
        "code": error.code,
        "detail": error.message,
        "hint": error.hint,
    }
    if error.details:
        body["details"] = error.details
    headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else None
    return JSONResponse(body, status_code=error.status, media_type=PROBLEM, headers=headers)


def _field(loc: tuple[int | str, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or "request"


async def _dualwrite_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DualWriteError)  # noqa: S101 - registered for this type only
    return problem(exc)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)  # noqa: S101 - registered for this type only
    first, *rest = exc.errors() or [{"loc": ("request",), "msg": "is invalid"}]
    fields = ", ".join(_field(tuple(e["loc"])) for e in [first, *rest])
    err = ERR.INVALID_INPUT.error(field=fields, problem=str(first["msg"]).lower())
    return problem(err)


async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error", exc_info=exc)
    return problem(ERR.INTERNAL.error())


def install(app: FastAPI) -> None:
    app.add_exception_handler(DualWriteError, _dualwrite_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected)
