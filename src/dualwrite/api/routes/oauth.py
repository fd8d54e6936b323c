"""The identity platform's routes, where OAuth clients expect them (not under /api/v1):
OpenID Connect discovery, signing keys, the token endpoints, the user realm. `{tenant}` is a
tenant's domain or its directory ID. Answers and errors are Entra's JSON, never problem
details: clients such as MSAL read `error` and `error_codes`."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from dualwrite.api.deps import SessionDep, SettingsDep, StoreDep, client_address, request_base
from dualwrite.identity import discovery, grants
from dualwrite.identity.aadsts import STS, StsError
from dualwrite.identity.tokens import TokenVersion

router = APIRouter(include_in_schema=False)
FORM = "application/x-www-form-urlencoded"
MAX_FIELDS = 50
MAX_BODY = 64 * 1024  # a token request is a few hundred bytes
NO_STORE = {"Cache-Control": "no-store, no-cache", "Pragma": "no-cache"}


def _correlation(request: Request) -> str:
    """The client's `client-request-id` (MSAL sends one) when it is a GUID, else a new one."""
    given = request.headers.get("client-request-id", "")
    try:
        return str(uuid.UUID(given))
    except ValueError:
        return str(uuid.uuid4())


def _answer(
    request: Request, body: dict[str, Any], status: int = 200, **headers: str
) -> JSONResponse:
    correlation = _correlation(request)
    return JSONResponse(
        body,
        status_code=status,
        headers={**NO_STORE, "client-request-id": correlation, **headers},
    )


def _refused(request: Request, error: StsError) -> JSONResponse:
    correlation = _correlation(request)
    body = error.body(correlation)
    headers = {**NO_STORE, **error.headers, "client-request-id": correlation}
    headers["x-ms-request-id"] = body["trace_id"]
    return JSONResponse(body, status_code=error.status, headers=headers)


# --- discovery ------------------------------------------------------------------------------


def _configuration(
    request: Request, session: SessionDep, tenant: str, version: TokenVersion
) -> JSONResponse:
    try:
        found = discovery.tenant_of(session, tenant)
    except StsError as error:
        return _refused(request, error)
    return _answer(request, discovery.openid_configuration(request_base(request), found, version))


@router.get("/{tenant}/v2.0/.well-known/openid-configuration")
def openid_configuration(request: Request, session: SessionDep, tenant: str) -> JSONResponse:
    return _configuration(request, session, tenant, TokenVersion.V2)


@router.get("/{tenant}/.well-known/openid-configuration")
def openid_configuration_v1(request: Request, session: SessionDep, tenant: str) -> JSONResponse:
    return _configuration(request, session, tenant, TokenVersion.V1)


def _keys(
    request: Request, session: SessionDep, tenant: str, version: TokenVersion
) -> JSONResponse:
    try:
        found = None if tenant.lower() == discovery.COMMON else discovery.tenant_of(session, tenant)
    except StsError as error:
        return _refused(request, error)
    return _answer(request, discovery.keys(session, request_base(request), found, version))


@router.get("/{tenant}/discovery/v2.0/keys")
def keys(request: Request, session: SessionDep, tenant: str) -> JSONResponse:
    return _keys(request, session, tenant, TokenVersion.V2)


@router.get("/{tenant}/discovery/keys")
def keys_v1(request: Request, session: SessionDep, tenant: str) -> JSONResponse:
    return _keys(request, session, tenant, TokenVersion.V1)


@router.get("/common/userrealm/{username}")
def user_realm(request: Request, session: SessionDep, username: str) -> JSONResponse:
    return _answer(request, discovery.user_realm(session, request_base(request), username))


# --- tokens ----------------------------------------------------------------------------------


async def _form(request: Request) -> list[tuple[str, str]]:
    """The form fields in order, duplicates kept (so they can be refused); a body that is no
    form is as good as none (then grant_type is what is missing, as Entra says)."""
    if not request.headers.get("content-type", "").lower().startswith(FORM):
        return []
    malformed = STS.MALFORMED_REQUEST.refuse(
        problem=f"The body is not a form of at most {MAX_FIELDS} UTF-8 fields and {MAX_BODY} bytes."
    )
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise malformed
    try:
        return parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except (UnicodeDecodeError, ValueError):
        raise malformed from None


async def _token(
    request: Request, store: StoreDep, settings: SettingsDep, tenant: str, version: TokenVersion
) -> JSONResponse:
    try:
        asked = grants.parse_token_request(
            await _form(request), request.headers.get("authorization")
        )
        # In a worker thread: the store's queries and argon2 would hold up the event loop.
        reply = await run_in_threadpool(
            grants.issue,
            store,
            settings,
            tenant_key=tenant,
            base=request_base(request),
            version=version,
            request=asked,
            source=client_address(request),
        )
    except StsError as error:
        return _refused(request, error)
    return _answer(request, reply)


@router.post("/{tenant}/oauth2/v2.0/token")
async def token(
    request: Request, store: StoreDep, settings: SettingsDep, tenant: str
) -> JSONResponse:
    return await _token(request, store, settings, tenant, TokenVersion.V2)


@router.post("/{tenant}/oauth2/token")
async def token_v1(
    request: Request, store: StoreDep, settings: SettingsDep, tenant: str
) -> JSONResponse:
    return await _token(request, store, settings, tenant, TokenVersion.V1)


@router.get("/{tenant}/oauth2/v2.0/token")
@router.get("/{tenant}/oauth2/token")
def token_get(request: Request, tenant: str) -> JSONResponse:
    return _refused(request, STS.ONLY_POST.refuse(method=request.method))
