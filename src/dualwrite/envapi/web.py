"""FastAPI plumbing shared by both APIs: the raw request as an `ApiRequest`, an `ApiResponse`
as a Starlette response, and errors — ours, the auth dependency's, unexpected ones — in the
platform's shape. Routes stay thin: resolve the grant, dispatch, answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.responses import Response

from dualwrite.envapi.errors import Platform, error_body, error_headers, platform_of, unexpected
from dualwrite.envapi.http import JSON, ApiRequest, ApiResponse
from dualwrite.errors import DualWriteError
from dualwrite.odata.errors import UNEXPECTED, ODataError

METHODS = ["GET", "POST", "PATCH", "PUT", "DELETE"]


async def _raw_body(request: Request) -> bytes:
    return await request.body()


BodyDep = Annotated[bytes, Depends(_raw_body)]


def api_request(request: Request, marker: str, body: bytes) -> ApiRequest:
    """The request below the service root, its path still percent-encoded."""
    raw = request.scope.get("raw_path") or request.url.path.encode()
    path = raw.decode("latin-1")
    at = path.find(marker)
    rest = path[at + len(marker) :] if at >= 0 else ""
    query = request.scope.get("query_string", b"").decode("latin-1")
    headers = {k.lower(): v for k, v in request.headers.items()}
    prefer = tuple(request.headers.getlist("prefer"))
    return ApiRequest(request.method, rest.lstrip("/"), query, headers, body, prefer)


def error_response(
    platform: Platform, error: ODataError, extra: dict[str, str] | None = None
) -> ApiResponse:
    headers = {**error_headers(error), **(extra or {})}
    return ApiResponse(error.status, error_body(platform, error), headers, JSON)


def to_response(response: ApiResponse, extra: dict[str, str] | None = None) -> Response:
    headers = {**response.all_headers(), **(extra or {})}
    media = headers.pop("Content-Type", None)
    return Response(response.body, response.status, headers=headers, media_type=media)


def answer(
    platform: Platform,
    method: str,
    path: str,
    run: Callable[[], ApiResponse],
    extra: dict[str, str],
) -> Response:
    try:
        response = run()
    except ODataError as exc:
        response = error_response(platform, exc)
    except DualWriteError as exc:  # e.g. the data store cannot be reached (DW2002 → 503)
        response = error_response(platform, ODataError(exc.status, exc.message, UNEXPECTED))
    except Exception as exc:
        response = error_response(platform, unexpected(exc, method, path))
    return to_response(response, extra)


def install(app: FastAPI) -> None:
    """Errors raised before a route runs (the auth dependency) in the platform's shape."""

    async def render(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ODataError)  # noqa: S101 - registered for ODataError only
        platform = platform_of(request.url.path)
        extra = tracing_headers(request) if platform is Platform.FO else {}
        return to_response(error_response(platform, exc), extra)

    app.add_exception_handler(ODataError, render)


def tracing_headers(request: Request) -> dict[str, str]:
    """F&O answers with ms-dyn-aid (its activity ID), echoing the client's request ID."""
    import uuid

    given = request.headers.get("x-ms-client-request-id") or request.headers.get("ms-dyn-aid")
    return {"ms-dyn-aid": given or str(uuid.uuid4())}
