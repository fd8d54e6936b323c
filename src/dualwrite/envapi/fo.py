"""Finance and operations OData of an F&O environment: `/environments/{name}/data/…`, the
name resolved within the caller's tenant. Thin: resolve the grant, dispatch to `foservice`."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from dualwrite.api.deps import SessionDep, SettingsDep
from dualwrite.control.models import FoEnvironment
from dualwrite.envapi import fometa, foservice
from dualwrite.envapi.access import fo_grant
from dualwrite.envapi.deps import PrincipalDep
from dualwrite.envapi.errors import Platform
from dualwrite.envapi.http import ApiResponse
from dualwrite.envapi.web import METHODS, BodyDep, answer, api_request, tracing_headers
from dualwrite.link.live_writes import live_sync_for

PREFIX = "/environments/{name}/data"
# Also `/environments/{name}/Metadata/…`: DataEntities, PublicEntities, PublicEnumerations.

router = APIRouter(include_in_schema=False)


@router.api_route(PREFIX, methods=METHODS)
@router.api_route(PREFIX + "/{path:path}", methods=METHODS)
def fo_odata(
    request: Request,
    name: str,
    principal: PrincipalDep,
    session: SessionDep,
    settings: SettingsDep,
    body: BodyDep,
) -> Response:
    def run() -> ApiResponse:
        grant = fo_grant(session, principal, name)
        base = f"{str(request.base_url).rstrip('/')}/environments/{name}/data"
        # Writes apply the link's running maps synchronously; reads need not look them up.
        live = None
        if request.method not in ("GET", "HEAD"):
            live = live_sync_for(session, session.get_one(FoEnvironment, grant.environment_id))
        ctx = foservice.FoContext(grant, base, settings.secret_key, live)
        return foservice.dispatch(ctx, api_request(request, "/data", body))

    return answer(Platform.FO, request.method, request.url.path, run, tracing_headers(request))


@router.get("/environments/{name}/Metadata/{path:path}")
def fo_metadata_service(
    request: Request, name: str, principal: PrincipalDep, session: SessionDep
) -> Response:
    def run() -> ApiResponse:
        fo_grant(session, principal, name)  # readable by whoever may read the environment
        base = f"{str(request.base_url).rstrip('/')}/environments/{name}/Metadata"
        return fometa.metadata_service(base, api_request(request, "/Metadata", b""))

    return answer(Platform.FO, request.method, request.url.path, run, tracing_headers(request))
