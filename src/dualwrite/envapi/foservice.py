"""Finance and operations OData services: collections with company defaulting and
`cross-company`, records by compound key, create (201 with the record), update and delete
(204) through the one write path, `$batch`.

Company: a company-striped entity shows only the caller's default company — the environment's
first legal entity (the caller has no other default here) — unless `?cross-company=true`.
ETags: a hash of the record's public values (see `odata/etags.py`)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, ColumnElement, Engine, select

from dualwrite.databases import READS_ONLY
from dualwrite.envapi.access import FoGrant, Op
from dualwrite.envapi.batch import BatchHandler, run_batch
from dualwrite.envapi.dvread import page_size
from dualwrite.envapi.errors import Platform, unexpected
from dualwrite.envapi.fomodel import fo_model
from dualwrite.envapi.http import ApiRequest, ApiResponse, Planned
from dualwrite.envapi.stores import engine_for
from dualwrite.envapi.web import error_response
from dualwrite.envapi.writes import Operation, OpKind, Written, write_rows
from dualwrite.link.live_writes import LiveSync
from dualwrite.odata.csdl import metadata_xml, service_document
from dualwrite.odata.errors import ODataError, bad_request, not_found_segment
from dualwrite.odata.etags import hash_etag, matches
from dualwrite.odata.filters import Dialect
from dualwrite.odata.keys import entity_set, parse_path, resolve_key
from dualwrite.odata.model import EntitySet, ServiceModel
from dualwrite.odata.query import QueryOptions, parse_query
from dualwrite.odata.reader import Flavor, count_rows, read_one, read_page, where_clause
from dualwrite.odata.values import from_json
from dualwrite.stores import fo
from dualwrite.stores.datastore import Side

MAX_PAGE = 10_000  # F&O's server-driven paging


def _etag_columns(entity: EntitySet) -> Sequence[Column[Any]]:
    return tuple(p.column for p in entity.properties.values())


@functools.cache
def fo_flavor(dialect: str) -> Flavor:
    model = fo_model()
    return Flavor(
        dialect=Dialect(model.enum_types, wildcards=True, aware_datetimes=dialect == "postgresql"),
        etag_columns=_etag_columns,
        etag=hash_etag,
        etag_one=None,
        always_key=False,
        default_page=MAX_PAGE,
        max_page=MAX_PAGE,
    )


def etag_of(entity: EntitySet, row: dict[str, Any]) -> str:
    return hash_etag([row[p.column.name] for p in entity.properties.values()])


@dataclass(frozen=True)
class FoContext:
    grant: FoGrant
    base: str
    secret: str
    # Synchronous dual-write: the link's running maps from this side (see writes.py).
    live_sync: LiveSync | None = None

    @property
    def model(self) -> ServiceModel:
        return fo_model()

    @property
    def engine(self) -> Engine:
        return engine_for(self.grant.store_url)

    @property
    def flavor(self) -> Flavor:
        return fo_flavor(self.engine.dialect.name)

    @functools.cached_property
    def company(self) -> str | None:
        """The caller's default company: the environment's first legal entity."""
        with self.engine.connect().execution_options(**{READS_ONLY: True}) as conn:
            first = conn.scalar(
                select(fo.legalentities.c.legalentityid).order_by(fo.legalentities.c.recid).limit(1)
            )
        return str(first) if first is not None else None


@functools.cache
def _metadata() -> bytes:
    return metadata_xml(fo_model())


def _options(req: ApiRequest) -> QueryOptions:
    options = parse_query(req.query, skip_supported=True)
    cross = options.custom.get("cross-company", "false").lower()
    if cross not in ("true", "false"):
        raise bad_request(f"cross-company must be true or false, not '{cross}'.")
    return options


def _cross_company(options: QueryOptions) -> bool:
    return options.custom.get("cross-company", "false").lower() == "true"


def _scope(ctx: FoContext, entity: EntitySet, options: QueryOptions) -> list[ColumnElement[bool]]:
    if entity.company is None or _cross_company(options):
        return []
    return [entity.company.column == (ctx.company or "")]


def _context(ctx: FoContext, entity: EntitySet, options: QueryOptions, suffix: str = "") -> str:
    selected = f"({','.join(options.select)})" if options.select else ""
    return f"{ctx.base}/$metadata#{entity.name}{selected}{suffix}"


def read_collection(ctx: FoContext, req: ApiRequest, entity: EntitySet) -> ApiResponse:
    ctx.grant.require(Op.READ, entity.name)
    options = _options(req)
    size = page_size(req.prefer.max_page_size, MAX_PAGE)
    with ctx.engine.connect().execution_options(**{READS_ONLY: True}) as conn:
        page = read_page(
            conn,
            ctx.model,
            entity,
            options,
            ctx.flavor,
            page_size=size,
            secret=ctx.secret,
            scope=_scope(ctx, entity, options),
        )
    document: dict[str, Any] = {"@odata.context": _context(ctx, entity, options)}
    if page.count is not None:
        document["@odata.count"] = page.count
    document["value"] = page.rows
    if page.next_token is not None:
        query = options.encoded(("$skiptoken", page.next_token))
        document["@odata.nextLink"] = f"{ctx.base}/{entity.name}?{query}"
    headers = {}
    if req.prefer.max_page_size is not None:
        headers["Preference-Applied"] = f"odata.maxpagesize={size}"
    return ApiResponse.json(200, document, **headers)


def count_collection(ctx: FoContext, req: ApiRequest, entity: EntitySet) -> ApiResponse:
    ctx.grant.require(Op.READ, entity.name)
    options = _options(req)
    with ctx.engine.connect().execution_options(**{READS_ONLY: True}) as conn:
        conditions = where_clause(entity, options, ctx.flavor, _scope(ctx, entity, options))
        count = count_rows(conn, entity, conditions, None)
    return ApiResponse(200, str(count).encode(), {}, "text/plain")


def _key(ctx: FoContext, entity: EntitySet, segment: Any) -> dict[str, Any]:
    key = resolve_key(entity, segment.key or ())
    if entity.company is not None and entity.company.column.name not in key:
        key[entity.company.column.name] = ctx.company  # a key without dataAreaId: the default
    return key


def _missing(entity: EntitySet, key: dict[str, Any]) -> ODataError:
    shown = ",".join(f"{entity.by_column[c].name}='{v}'" for c, v in key.items())
    return ODataError(404, f"No record of '{entity.name}' matches the key ({shown}).")


def read_record(ctx: FoContext, req: ApiRequest, entity: EntitySet, segment: Any) -> ApiResponse:
    ctx.grant.require(Op.READ, entity.name)
    options = _options(req)
    key = _key(ctx, entity, segment)
    with ctx.engine.connect().execution_options(**{READS_ONLY: True}) as conn:
        row = read_one(
            conn, ctx.model, entity, key, options, ctx.flavor, _scope(ctx, entity, options)
        )
    if row is None:
        raise _missing(entity, key)
    if_none = req.header("if-none-match")
    if if_none and matches(if_none, row["@odata.etag"]):
        return ApiResponse.empty(304, ETag=row["@odata.etag"])
    document = {"@odata.context": _context(ctx, entity, options, "/$entity"), **row}
    return ApiResponse.json(200, document, ETag=row["@odata.etag"])


def _values(entity: EntitySet, data: dict[str, Any]) -> dict[str, Any]:
    values = {}
    for name, raw in data.items():
        if name.startswith("@"):
            continue
        prop = entity.properties.get(name)
        if prop is None:
            raise bad_request(
                f"The property '{name}' does not exist on type '{entity.qualified_type}'. Make "
                "sure to only use property names that are defined by the type.",
                target=name,
            )
        values[prop.column.name] = from_json(prop, raw, entity.type_name)
    return values


def _record_url(ctx: FoContext, entity: EntitySet, key: dict[str, Any]) -> str:
    parts = ",".join(
        f"{p.name}='{str(key[p.column.name]).lower() if p.upper else key[p.column.name]}'"
        if isinstance(key[p.column.name], str)
        else f"{p.name}={key[p.column.name]}"
        for p in entity.key
    )
    return f"{entity.name}({parts})"


def plan(ctx: FoContext, req: ApiRequest) -> Planned:
    segments = parse_path(req.path, double_decoded=True)
    if not segments:
        raise bad_request("A write needs an entity collection.")
    entity = entity_set(ctx.model.sets, segments[0])
    if len(segments) > 1:
        raise not_found_segment(segments[1].name)
    if segments[0].key is None:
        if req.method != "POST":
            raise ODataError(405, f"The method {req.method} is not allowed on '{entity.name}'.")
        ctx.grant.require(Op.CREATE, entity.name)
        values = _values(entity, req.json())
        if entity.company is not None and values.get(entity.company.column.name) is None:
            values[entity.company.column.name] = ctx.company
        key = {p.column.name: values.get(p.column.name) for p in entity.key}
        options = _options(req)

        def created(written: list[Written]) -> ApiResponse:
            with ctx.engine.connect() as conn:
                row = read_one(conn, ctx.model, entity, written[0].key, options, ctx.flavor)
            document = {"@odata.context": _context(ctx, entity, options, "/$entity"), **(row or {})}
            location = f"{ctx.base}/{_record_url(ctx, entity, key)}"
            etag = (row or {}).get("@odata.etag", "")
            return ApiResponse.json(201, document, Location=location, ETag=etag)

        located = {c: v for c, v in key.items() if v is not None}
        rest = {c: v for c, v in values.items() if c not in located}
        operation = Operation(OpKind.CREATE, entity, located, rest)
        return Planned([operation], created, _record_url(ctx, entity, key))
    key = _key(ctx, entity, segments[0])
    if req.method in ("PATCH", "PUT"):
        ctx.grant.require(Op.WRITE, entity.name)
        values = _values(entity, req.json())
        for column, value in key.items():
            if column in values and values[column] != value:
                name = entity.by_column[column].name
                raise bad_request(f"The key field '{name}' cannot be changed by an update.")
            values.pop(column, None)
        operation = Operation(OpKind.UPDATE, entity, key, values, req.header("if-match"))
        return Planned(
            [operation], lambda _w: ApiResponse.empty(204), _record_url(ctx, entity, key)
        )
    if req.method == "DELETE":
        ctx.grant.require(Op.DELETE, entity.name)
        operation = Operation(OpKind.DELETE, entity, key, {}, req.header("if-match"))
        return Planned([operation], lambda _w: ApiResponse.empty(204))
    raise ODataError(405, f"The method {req.method} is not allowed on a record of '{entity.name}'.")


def commit(ctx: FoContext, plans: Sequence[Planned]) -> list[ApiResponse]:
    operations = [op for p in plans for op in p.operations]
    try:
        written = write_rows(
            ctx.grant.store_url,
            Side.FO,
            operations,
            etag_of=etag_of,
            live_sync=ctx.live_sync,
        )
    except ODataError as exc:
        if exc.status == 404:  # F&O's answer when an update or delete finds no record
            raise ODataError(404, "No resources were found when selecting for update.") from None
        raise
    out, start = [], 0
    for p in plans:
        out.append(p.respond(written[start : start + len(p.operations)]))
        start += len(p.operations)
    return out


def dispatch(ctx: FoContext, req: ApiRequest) -> ApiResponse:
    segments = parse_path(req.path, double_decoded=True)
    if not segments:
        return ApiResponse.json(200, service_document(ctx.model, f"{ctx.base}/$metadata"))
    first = segments[0].name
    if first == "$metadata":
        return ApiResponse(200, _metadata(), {}, "application/xml")
    if first == "$batch":
        if req.method != "POST":
            raise ODataError(405, "$batch takes POST.")
        return run_batch(_batch_handler(ctx), req)
    if req.method != "GET":
        return commit(ctx, [plan(ctx, req)])[0]
    entity = entity_set(ctx.model.sets, segments[0])
    if segments[0].key is None:
        if len(segments) == 2 and segments[1].name == "$count":
            return count_collection(ctx, req, entity)
        if len(segments) > 1:
            raise not_found_segment(segments[1].name)
        return read_collection(ctx, req, entity)
    if len(segments) > 1:
        raise not_found_segment(segments[1].name)
    return read_record(ctx, req, entity, segments[0])


def _batch_handler(ctx: FoContext) -> BatchHandler:
    def service_path(url: str) -> str:
        at = url.find("/data/")
        return url[at + len("/data/") :] if at >= 0 else url.lstrip("/")

    return BatchHandler(
        handle=lambda req: dispatch(ctx, req),
        plan=lambda req: plan(ctx, req),
        commit=lambda plans: commit(ctx, plans),
        error=lambda exc: error_response(Platform.FO, exc),
        service_path=service_path,
        unexpected=unexpected,
    )
