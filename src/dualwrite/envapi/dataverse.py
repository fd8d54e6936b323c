"""The Dataverse Web API of a Power Platform environment:
`/dataverse/{environment_id}/api/data/v9.0|v9.1|v9.2/…`. Thin: resolve the caller's grant,
parse the path, dispatch to the read, write, metadata and batch services."""

from __future__ import annotations

import functools

from fastapi import APIRouter, Request
from fastapi.responses import Response

from dualwrite.api.deps import SessionDep, SettingsDep
from dualwrite.control.models import PlatformEnvironment
from dualwrite.envapi import dvmeta, dvread, dvwrite
from dualwrite.envapi.access import dataverse_grant
from dualwrite.envapi.batch import BatchHandler, run_batch
from dualwrite.envapi.deps import PrincipalDep
from dualwrite.envapi.dvcontext import DvContext
from dualwrite.envapi.dvmodel import dataverse_model
from dualwrite.envapi.errors import Platform, unexpected
from dualwrite.envapi.http import ApiRequest, ApiResponse, Planned
from dualwrite.envapi.web import METHODS, BodyDep, answer, api_request, error_response
from dualwrite.link.live_writes import live_sync_for
from dualwrite.odata.csdl import metadata_xml, service_document
from dualwrite.odata.errors import ODataError, bad_request, not_found_segment
from dualwrite.odata.keys import entity_set, parse_path, resolve_key

VERSIONS = ("v9.0", "v9.1", "v9.2")
PREFIX = "/dataverse/{environment_id}/api/data/{version}"
ACTIONS = {
    "Microsoft.Dynamics.CRM.CreateMultiple": False,
    "Microsoft.Dynamics.CRM.UpsertMultiple": True,
}

# Functions and complex types of the Web API that our schema answers (WhoAmI).
_WHO_AM_I = (
    (
        "ComplexType",
        {"Name": "WhoAmIResponse"},
        tuple(
            ("Property", {"Name": n, "Type": "Edm.Guid", "Nullable": "false"})
            for n in ("BusinessUnitId", "UserId", "OrganizationId")
        ),
    ),
    (
        "Function",
        {"Name": "WhoAmI"},
        (("ReturnType", {"Type": "Microsoft.Dynamics.CRM.WhoAmIResponse", "Nullable": "false"}),),
    ),
)
_WHO_AM_I_IMPORT = (
    ("FunctionImport", {"Name": "WhoAmI", "Function": "Microsoft.Dynamics.CRM.WhoAmI"}, ()),
)

router = APIRouter(include_in_schema=False)


@functools.cache
def _metadata() -> bytes:
    return metadata_xml(dataverse_model(), _WHO_AM_I, _WHO_AM_I_IMPORT)


def plan(ctx: DvContext, req: ApiRequest) -> Planned:
    segments = parse_path(req.path)
    if not segments:
        raise bad_request("A write needs an entity set.")
    entity = entity_set(ctx.model.sets, segments[0])
    if len(segments) == 2 and segments[1].name in ACTIONS and req.method == "POST":
        return dvwrite.plan_multiple(ctx, req, entity, ACTIONS[segments[1].name])
    if len(segments) > 1:
        raise not_found_segment(segments[1].name)
    if segments[0].key is None:
        if req.method != "POST":
            raise ODataError(405, f"The method {req.method} is not allowed on '{entity.name}'.")
        return dvwrite.plan_create(ctx, req, entity)
    key = resolve_key(entity, segments[0].key)
    if req.method in ("PATCH", "PUT"):
        return dvwrite.plan_patch(ctx, req, entity, key)
    if req.method == "DELETE":
        return dvwrite.plan_delete(ctx, req, entity, key)
    raise ODataError(405, f"The method {req.method} is not allowed on a record of '{entity.name}'.")


def dispatch(ctx: DvContext, req: ApiRequest) -> ApiResponse:
    segments = parse_path(req.path)
    if not segments:
        return ApiResponse.json(200, service_document(ctx.model, f"{ctx.base}/$metadata"))
    first = segments[0].name
    if first == "$metadata":
        return ApiResponse(200, _metadata(), {}, "application/xml")
    if first == "$batch":
        if req.method != "POST":
            raise ODataError(405, "$batch takes POST.")
        return run_batch(_batch_handler(ctx), req)
    if first == "WhoAmI" and req.method == "GET":
        return dvmeta.who_am_i(ctx)
    if first == "EntityDefinitions" and req.method == "GET":
        return dvmeta.entity_definitions(ctx, req, segments)
    if req.method != "GET":
        return dvwrite.commit(ctx, [plan(ctx, req)])[0]
    entity = entity_set(ctx.model.sets, segments[0])
    if segments[0].key is None:
        if len(segments) == 2 and segments[1].name == "$count":
            return dvread.count_collection(ctx, req, entity)
        if len(segments) > 1:
            raise not_found_segment(segments[1].name)
        return dvread.read_collection(ctx, req, entity)
    if len(segments) == 1:
        return dvread.read_record(ctx, req, entity, segments[0])
    if len(segments) == 2:
        return dvread.read_property(ctx, req, entity, segments[0], segments[1].name)
    raise not_found_segment(segments[2].name)


def _batch_handler(ctx: DvContext) -> BatchHandler:
    marker = "/api/data/"

    def service_path(url: str) -> str:
        at = url.find(marker)
        return url[at + len(marker) + 4 :] if at >= 0 else url.lstrip("/")

    return BatchHandler(
        handle=lambda req: dispatch(ctx, req),
        plan=lambda req: plan(ctx, req),
        commit=lambda plans: dvwrite.commit(ctx, plans),
        error=lambda exc: error_response(Platform.DATAVERSE, exc),
        service_path=service_path,
        unexpected=unexpected,
    )


@router.api_route(PREFIX, methods=METHODS)
@router.api_route(PREFIX + "/{path:path}", methods=METHODS)
def dataverse_web_api(
    request: Request,
    environment_id: str,
    version: str,
    principal: PrincipalDep,
    session: SessionDep,
    settings: SettingsDep,
    body: BodyDep,
) -> Response:
    def run() -> ApiResponse:
        if version not in VERSIONS:
            raise not_found_segment(version)
        grant = dataverse_grant(session, principal, environment_id)
        base = f"{str(request.base_url).rstrip('/')}/dataverse/{environment_id}/api/data/{version}"
        # Writes apply the link's running maps synchronously; reads need not look them up.
        live = None
        if request.method not in ("GET", "HEAD"):
            target = session.get_one(PlatformEnvironment, grant.environment_id)
            live = live_sync_for(session, target)
        ctx = DvContext(grant, base, settings.secret_key, live)
        return dispatch(ctx, api_request(request, f"/api/data/{version}", body))

    return answer(Platform.DATAVERSE, request.method, request.url.path, run, {})
