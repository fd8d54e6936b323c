"""Dataverse Web API reads: collections with paging, one record by key, `$count`."""

from __future__ import annotations

from typing import Any

from dualwrite.databases import READS_ONLY
from dualwrite.envapi.access import Op
from dualwrite.envapi.dvchanges import read_changes, tracking_carry, with_delta_link
from dualwrite.envapi.dvcontext import MAX_PAGE, DvContext
from dualwrite.envapi.dvformat import annotate, applied_annotations
from dualwrite.envapi.http import ApiRequest, ApiResponse
from dualwrite.odata.errors import LIMIT, NOT_FOUND, ODataError
from dualwrite.odata.etags import matches
from dualwrite.odata.keys import Segment, resolve_key
from dualwrite.odata.model import EntitySet
from dualwrite.odata.query import QueryOptions, parse_query
from dualwrite.odata.reader import count_rows, read_one, read_page, where_clause


def page_size(requested: int | None, maximum: int) -> int:
    if requested is None:
        return maximum
    if not 1 <= requested <= maximum:
        raise ODataError(
            400,
            f"The odata.maxpagesize {requested} is out of range: give a page size from 1 to "
            f"{maximum}.",
            LIMIT,
        )
    return requested


def _context(ctx: DvContext, entity: EntitySet, options: QueryOptions, suffix: str = "") -> str:
    selected = f"({','.join(options.select)})" if options.select else ""
    return ctx.context(f"{entity.name}{selected}{suffix}")


def options_of(req: ApiRequest) -> QueryOptions:
    return parse_query(req.query, skip_supported=False)


def read_collection(ctx: DvContext, req: ApiRequest, entity: EntitySet) -> ApiResponse:
    ctx.grant.require(Op.READ, entity.type_name)
    options = options_of(req)
    prefer = req.prefer
    size = page_size(prefer.max_page_size, MAX_PAGE)
    if options.deltatoken:
        changes: ApiResponse = read_changes(ctx, entity, options, size)
        return changes
    carry = tracking_carry(ctx, entity, options, prefer.track_changes)
    with ctx.engine.connect().execution_options(**{READS_ONLY: True}) as conn:
        page = read_page(
            conn,
            ctx.model,
            entity,
            options,
            ctx.flavor,
            page_size=size,
            secret=ctx.secret,
            carry=carry,
        )
        annotate(conn, ctx.model, entity, page.rows, prefer)
    document: dict[str, Any] = {"@odata.context": _context(ctx, entity, options)}
    if page.count is not None:
        document["@odata.count"] = page.count
    document["value"] = page.rows
    if page.next_token is not None:
        query = options.encoded(("$skiptoken", page.next_token))
        document["@odata.nextLink"] = f"{ctx.base}/{entity.name}?{query}"
    elif "position" in page.carried:
        with_delta_link(ctx, entity, options, document, page.carried["position"])
    headers = {}
    applied = [f"odata.maxpagesize={size}"] if prefer.max_page_size is not None else []
    if "position" in page.carried:
        applied.append("odata.track-changes")
    annotations = applied_annotations(prefer)
    if annotations:
        applied.append(annotations)
    if applied:
        headers["Preference-Applied"] = ",".join(applied)
    return ApiResponse.json(200, document, **headers)


def count_collection(ctx: DvContext, req: ApiRequest, entity: EntitySet) -> ApiResponse:
    ctx.grant.require(Op.READ, entity.type_name)
    options = options_of(req)
    with ctx.engine.connect().execution_options(**{READS_ONLY: True}) as conn:
        conditions = where_clause(entity, options, ctx.flavor, ())
        count = count_rows(conn, entity, conditions, ctx.flavor.count_cap)
    return ApiResponse(200, str(count).encode(), {}, "text/plain")


def not_found(entity: EntitySet, key: dict[str, Any]) -> ODataError:
    shown = ",".join(str(v) for v in key.values())
    return ODataError(404, f"{entity.type_name} With Id = {shown} Does Not Exist", NOT_FOUND)


def read_record(
    ctx: DvContext, req: ApiRequest, entity: EntitySet, segment: Segment
) -> ApiResponse:
    ctx.grant.require(Op.READ, entity.type_name)
    options = options_of(req)
    key = resolve_key(entity, segment.key or ())
    prefer = req.prefer
    with ctx.engine.connect().execution_options(**{READS_ONLY: True}) as conn:
        row = read_one(conn, ctx.model, entity, key, options, ctx.flavor)
        if row is None:
            raise not_found(entity, key)
        annotate(conn, ctx.model, entity, [row], prefer)
    etag = row["@odata.etag"]
    if_none = req.header("if-none-match")
    if if_none and if_none.strip().lower() != "null" and matches(if_none, etag):
        return ApiResponse.empty(304, ETag=etag)
    document = {"@odata.context": _context(ctx, entity, options, "/$entity"), **row}
    headers = {"ETag": etag}
    annotations = applied_annotations(prefer)
    if annotations:
        headers["Preference-Applied"] = annotations
    return ApiResponse.json(200, document, **headers)


def read_property(
    ctx: DvContext, req: ApiRequest, entity: EntitySet, segment: Segment, name: str
) -> ApiResponse:
    ctx.grant.require(Op.READ, entity.type_name)
    prop = entity.prop(name)
    key = resolve_key(entity, segment.key or ())
    options = QueryOptions(select=(prop.name,))
    with ctx.engine.connect().execution_options(**{READS_ONLY: True}) as conn:
        row = read_one(conn, ctx.model, entity, key, options, ctx.flavor)
    if row is None:
        raise not_found(entity, key)
    context = ctx.context(f"{entity.name}({segment.raw[len(segment.name) + 1 : -1]})/{name}")
    return ApiResponse.json(200, {"@odata.context": context, "value": row[prop.name]})
