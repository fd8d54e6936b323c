"""Dataverse Web API writes turned into operations of the one write path (`writes.py`):
POST (create), PATCH (upsert, or update with `If-Match`, create with `If-None-Match: *`),
DELETE, lookups bound with `x@odata.bind`, CreateMultiple and UpsertMultiple."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from typing import Any

from dualwrite.envapi.access import Op
from dualwrite.envapi.dvcontext import DvContext, etag_of
from dualwrite.envapi.http import ApiRequest, ApiResponse, Planned
from dualwrite.envapi.writes import Operation, OpKind, Written, write_rows
from dualwrite.odata.errors import BAD_BODY, ODataError, bad_request
from dualwrite.odata.keys import parse_path, resolve_key
from dualwrite.odata.model import EntitySet
from dualwrite.odata.query import QueryOptions, parse_query
from dualwrite.odata.reader import read_one
from dualwrite.odata.values import from_json
from dualwrite.stores.datastore import Side

_BIND = "@odata.bind"
_SERVICE_ROOT = re.compile(r"^.*?/api/data/v9\.[0-2]/")


def _unknown(name: str, entity: EntitySet) -> ODataError:
    return bad_request(
        f"The property '{name}' does not exist on type '{entity.qualified_type}'. Make sure to "
        "only use property names that are defined by the type.",
        target=name,
    )


def _bound_key(ctx: DvContext, entity: EntitySet, nav_name: str, reference: Any) -> Any:
    """`/accounts(<guid>)` (relative, absolute or by alternate key) → the related record's id."""
    nav = entity.navigations[nav_name]
    if reference is None:
        return None
    if not isinstance(reference, str):
        raise bad_request(
            f"The value of '{nav_name}{_BIND}' must be a URL like /{nav.target}(<id>)."
        )
    path = _SERVICE_ROOT.sub("", reference).lstrip("/")
    segments = parse_path(path)
    if len(segments) != 1 or segments[0].key is None:
        raise bad_request(f"The value '{reference}' of '{nav_name}{_BIND}' is not an entity URL.")
    if segments[0].name != nav.target:
        raise bad_request(
            f"The value '{reference}' of '{nav_name}{_BIND}' names '{segments[0].name}', but "
            f"'{nav_name}' relates to '{nav.target}'."
        )
    target = ctx.model.sets[nav.target]
    key = resolve_key(target, segments[0].key)
    pk = target.key[0].column.name
    if set(key) == {pk}:
        return key[pk]
    with ctx.engine.connect() as conn:  # bound by alternate key: find its id
        row = read_one(
            conn, ctx.model, target, key, QueryOptions(select=(target.key[0].name,)), ctx.flavor
        )
    if row is None:
        shown = ",".join(f"{k}={v}" for k, v in key.items())
        raise ODataError(400, f"{target.type_name} With Id = {shown} Does Not Exist", "0x80040217")
    return row[target.key[0].name]


def body_values(ctx: DvContext, entity: EntitySet, data: dict[str, Any]) -> dict[str, Any]:
    """A JSON record → column values, each checked against its column."""
    values: dict[str, Any] = {}
    for name, raw in data.items():
        if name.startswith("@odata.") or name.startswith("@"):
            continue  # @odata.type, @odata.etag and the like describe, they set nothing
        if name.endswith(_BIND):
            nav_name = name[: -len(_BIND)]
            if nav_name not in entity.navigations:
                raise _unknown(nav_name, entity)
            column = entity.navigations[nav_name].pairs[0][0]
            lookup = entity.by_column[column]
            if raw is None and not lookup.nullable:
                raise ODataError(
                    400,
                    f"The lookup '{nav_name}' of '{entity.type_name}' is required.",
                    "0x80044331",
                )
            values[column] = _bound_key(ctx, entity, nav_name, raw)
            continue
        if "@" in name:
            continue  # instance annotations of a property (x@OData.Community…)
        if name in entity.navigations:
            raise bad_request(
                f"Setting '{name}' by value (deep insert) is not supported: bind it with "
                f"'{name}{_BIND}': '/{entity.navigations[name].target}(<id>)'."
            )
        prop = entity.properties.get(name)
        if prop is None:
            raise _unknown(name, entity)
        if name.startswith("_") and name.endswith("_value"):
            nav = next(n for n in entity.navigations.values() if n.lookup is prop)
            raise bad_request(
                f"The lookup property '{name}' cannot be set directly: bind it with "
                f"'{nav.name}{_BIND}': '/{nav.target}(<id>)'."
            )
        if prop.read_only:
            continue
        values[prop.column.name] = from_json(prop, raw, entity.type_name)
    return values


def _options(req: ApiRequest) -> QueryOptions:
    return parse_query(req.query, skip_supported=False)


def _entity_id(ctx: DvContext, entity: EntitySet, key: dict[str, Any]) -> str:
    return f"{ctx.base}/{entity.name}({key[entity.key[0].column.name]})"


def _representation(
    ctx: DvContext, entity: EntitySet, written: Written, options: QueryOptions, status: int
) -> ApiResponse:
    with ctx.engine.connect() as conn:
        row = read_one(conn, ctx.model, entity, written.key, options, ctx.flavor)
    selected = f"({','.join(options.select)})" if options.select else ""
    document = {"@odata.context": ctx.context(f"{entity.name}{selected}/$entity"), **(row or {})}
    entity_id = _entity_id(ctx, entity, written.key)
    headers = {"OData-EntityId": entity_id, "Preference-Applied": "return=representation"}
    if row is not None:
        headers["ETag"] = row["@odata.etag"]
    return ApiResponse.json(status, document, **headers)


def plan_create(ctx: DvContext, req: ApiRequest, entity: EntitySet) -> Planned:
    ctx.grant.require(Op.CREATE, entity.type_name)
    values = body_values(ctx, entity, req.json())
    pk = entity.key[0].column.name
    guid = values.pop(pk, None) or str(uuid.uuid4())
    options, prefer = _options(req), req.prefer
    operation = Operation(OpKind.CREATE, entity, {pk: guid}, values)

    def respond(written: list[Written]) -> ApiResponse:
        if prefer.return_representation:
            return _representation(ctx, entity, written[0], options, 201)
        return ApiResponse.empty(204, **{"OData-EntityId": _entity_id(ctx, entity, written[0].key)})

    return Planned([operation], respond, f"{entity.name}({guid})")


def plan_patch(ctx: DvContext, req: ApiRequest, entity: EntitySet, key: dict[str, Any]) -> Planned:
    if_match, if_none = req.header("if-match"), req.header("if-none-match")
    if if_none is not None and if_none.strip().lower() == "null":
        if_none = None
    kind = OpKind.UPSERT
    if if_match is not None:
        kind = OpKind.UPDATE
    elif if_none is not None and if_none.strip() == "*":
        kind = OpKind.CREATE
    ctx.grant.require(Op.WRITE if kind is OpKind.UPDATE else Op.CREATE, entity.type_name)
    values = body_values(ctx, entity, req.json())
    pk = entity.key[0].column.name
    if values.get(pk) is not None and key.get(pk, values[pk]) != values[pk]:
        raise bad_request(f"The body's '{pk}' differs from the key in the URL.")
    values.pop(pk, None)
    # Addressed by alternate key: a create gets a new id besides the key's values.
    new_id = {} if pk in key else {pk: str(uuid.uuid4())}
    operation = Operation(kind, entity, key, values, if_match, if_none, new_id)
    options, prefer = _options(req), req.prefer

    def respond(written: list[Written]) -> ApiResponse:
        if prefer.return_representation:
            status = 200 if written[0].operation == "update" else 201
            return _representation(ctx, entity, written[0], options, status)
        return ApiResponse.empty(204, **{"OData-EntityId": _entity_id(ctx, entity, written[0].key)})

    location = f"{entity.name}({key[pk]})" if pk in key else None
    return Planned([operation], respond, location)


def plan_delete(ctx: DvContext, req: ApiRequest, entity: EntitySet, key: dict[str, Any]) -> Planned:
    ctx.grant.require(Op.DELETE, entity.type_name)
    operation = Operation(OpKind.DELETE, entity, key, {}, req.header("if-match"), None)
    return Planned([operation], lambda _written: ApiResponse.empty(204))


def _targets(req: ApiRequest) -> list[dict[str, Any]]:
    data = req.json()
    targets = data.get("Targets")
    if not isinstance(targets, list) or not all(isinstance(t, dict) for t in targets):
        raise ODataError(400, 'The body must be {"Targets": [ {record}, … ]}.', BAD_BODY)
    return targets


def _target_key(ctx: DvContext, entity: EntitySet, target: dict[str, Any]) -> dict[str, Any]:
    """Which record an UpsertMultiple target means: @odata.id, its id, or an alternate key."""
    reference = target.get("@odata.id")
    if isinstance(reference, str):
        segments = parse_path(_SERVICE_ROOT.sub("", reference).lstrip("/"))
        if len(segments) == 1 and segments[0].name == entity.name and segments[0].key:
            return resolve_key(entity, segments[0].key)
        raise bad_request(f"The @odata.id '{reference}' does not name a record of {entity.name}.")
    pk = entity.key[0]
    if target.get(pk.name) is not None:
        return {pk.column.name: from_json(pk, target[pk.name], entity.type_name)}
    for key in entity.alternate_keys:
        names = [p.column.name for p in key]
        values = body_values(ctx, entity, target)
        if all(values.get(n) is not None for n in names):
            return {n: values[n] for n in names}
    raise bad_request(
        f"An UpsertMultiple target of {entity.name} needs its id, an alternate key or @odata.id."
    )


def plan_multiple(ctx: DvContext, req: ApiRequest, entity: EntitySet, upsert: bool) -> Planned:
    ctx.grant.require(Op.CREATE, entity.type_name)
    if upsert:
        ctx.grant.require(Op.WRITE, entity.type_name)
    targets = _targets(req)
    pk = entity.key[0].column.name
    operations = []
    for target in targets:
        values = body_values(ctx, entity, target)
        if upsert:
            key = _target_key(ctx, entity, target)
            values.pop(pk, None)
            new_id = {} if pk in key else {pk: str(uuid.uuid4())}
            operations.append(Operation(OpKind.UPSERT, entity, key, values, create_values=new_id))
        else:
            guid = values.pop(pk, None) or str(uuid.uuid4())
            operations.append(Operation(OpKind.CREATE, entity, {pk: guid}, values))
    action = "UpsertMultipleResponse" if upsert else "CreateMultipleResponse"

    def respond(written: list[Written]) -> ApiResponse:
        document = {
            "@odata.context": ctx.context(f"Microsoft.Dynamics.CRM.{action}"),
            "Ids": [w.key[pk] for w in written],
        }
        return ApiResponse.json(200, document)

    return Planned(operations, respond)


def commit(ctx: DvContext, plans: Sequence[Planned]) -> list[ApiResponse]:
    """Write every plan's operations in one transaction; each plan answers for its rows."""
    operations = [op for plan in plans for op in plan.operations]
    written = write_rows(
        ctx.grant.store_url,
        Side.DATAVERSE,
        operations,
        etag_of=etag_of,
        live_sync=ctx.live_sync,
    )
    responses, start = [], 0
    for plan in plans:
        end = start + len(plan.operations)
        responses.append(plan.respond(written[start:end]))
        start = end
    return responses
