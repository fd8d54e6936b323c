"""Dataverse metadata the Web API answers besides CSDL: `WhoAmI` and `EntityDefinitions` with
its Attributes, Keys and relationships, as clients query them."""

from __future__ import annotations

import uuid
from typing import Any

from odata_query import ast

from dualwrite.engine.capture import installed_tables
from dualwrite.envapi.dvcontext import DvContext
from dualwrite.envapi.dvmodel import PRIMARY_NAMES
from dualwrite.envapi.http import ApiRequest, ApiResponse
from dualwrite.odata.errors import bad_request, not_found_segment
from dualwrite.odata.filters import parse_filter
from dualwrite.odata.keys import Segment
from dualwrite.odata.model import EntitySet, Kind, ServiceModel
from dualwrite.odata.query import QueryOptions, parse_query

_NS = uuid.UUID("0d7b7c5e-3c1a-4b8e-b7c2-51d1a3a9e6f4")
_CHILDREN = ("Attributes", "Keys", "OneToManyRelationships", "ManyToOneRelationships")
_ATTRIBUTE_TYPES = {
    Kind.STRING: ("String", "StringType", "StringAttributeMetadata"),
    Kind.GUID: ("Uniqueidentifier", "UniqueidentifierType", "UniqueIdentifierAttributeMetadata"),
    Kind.INT: ("Integer", "IntegerType", "IntegerAttributeMetadata"),
    Kind.BIGINT: ("BigInt", "BigIntType", "BigIntAttributeMetadata"),
    Kind.DECIMAL: ("Money", "MoneyType", "MoneyAttributeMetadata"),
    Kind.BOOL: ("Boolean", "BooleanType", "BooleanAttributeMetadata"),
    Kind.DATETIME: ("DateTime", "DateTimeType", "DateTimeAttributeMetadata"),
    Kind.DATE: ("DateTime", "DateTimeType", "DateTimeAttributeMetadata"),
}


def _id(*parts: str) -> str:
    return str(uuid.uuid5(_NS, "/".join(parts)))


def _label(text: str) -> dict[str, Any]:
    label = {"Label": text, "LanguageCode": 1033}
    return {"LocalizedLabels": [label], "UserLocalizedLabel": label}


def who_am_i(ctx: DvContext) -> ApiResponse:
    env = ctx.grant.environment_id
    document = {
        "@odata.context": ctx.context("Microsoft.Dynamics.CRM.WhoAmIResponse"),
        "BusinessUnitId": _id("businessunit", env),
        "UserId": _id("systemuser", env, ctx.grant.principal.object_id),
        "OrganizationId": env,
    }
    return ApiResponse.json(200, document)


def _attribute(model: ServiceModel, entity: EntitySet, name: str) -> dict[str, Any]:
    prop = entity.properties[name]
    column = prop.column.name
    logical = column
    if column in ("statecode", "statuscode"):
        kind = ("State", "StateType", "StateAttributeMetadata")
        if column == "statuscode":
            kind = ("Status", "StatusType", "StatusAttributeMetadata")
    elif prop.name != column:  # a lookup (_x_value)
        kind = ("Lookup", "LookupType", "LookupAttributeMetadata")
    else:
        kind = _ATTRIBUTE_TYPES[prop.kind]
    required = (
        "SystemRequired"
        if prop.column.primary_key
        else (
            "ApplicationRequired"
            if not prop.nullable and prop.column.server_default is None
            else "None"
        )
    )
    out: dict[str, Any] = {
        "@odata.type": f"#Microsoft.Dynamics.CRM.{kind[2]}",
        "MetadataId": _id("attribute", entity.type_name, logical),
        "LogicalName": logical,
        "SchemaName": logical,
        "EntityLogicalName": entity.type_name,
        "AttributeType": kind[0],
        "AttributeTypeName": {"Value": kind[1]},
        "IsPrimaryId": prop.column.primary_key,
        "IsPrimaryName": PRIMARY_NAMES.get(entity.type_name) == logical,
        "IsValidForCreate": not prop.read_only,
        "IsValidForUpdate": not prop.read_only and not prop.column.primary_key,
        "RequiredLevel": {"Value": required, "CanBeChanged": True},
        "DisplayName": _label(logical),
    }
    if prop.max_length is not None:
        out["MaxLength"] = prop.max_length
    if kind[0] == "Lookup":
        nav = next(n for n in entity.navigations.values() if n.lookup is prop)
        out["Targets"] = [model.sets[nav.target].type_name]
    if prop.kind is Kind.DECIMAL:
        out["Precision"] = prop.scale
    return out


def _relationships(
    model: ServiceModel, entity: EntitySet, many_to_one: bool
) -> list[dict[str, Any]]:
    out = []
    for source in model.sets.values():
        for nav in source.navigations.values():
            target = model.sets[nav.target]
            if (source is not entity) if many_to_one else (target is not entity):
                continue
            local, remote = nav.pairs[0]
            schema = f"{target.type_name}_{source.type_name}_{local}"
            out.append(
                {
                    "@odata.type": "#Microsoft.Dynamics.CRM.OneToManyRelationshipMetadata",
                    "MetadataId": _id("relationship", schema),
                    "SchemaName": schema,
                    "RelationshipType": "OneToManyRelationship",
                    "ReferencedEntity": target.type_name,
                    "ReferencedAttribute": remote,
                    "ReferencingEntity": source.type_name,
                    "ReferencingAttribute": local,
                    "ReferencingEntityNavigationPropertyName": nav.name,
                    "ReferencedEntityNavigationPropertyName": schema,
                }
            )
    return out


def _keys(entity: EntitySet) -> list[dict[str, Any]]:
    return [
        {
            "@odata.type": "#Microsoft.Dynamics.CRM.EntityKeyMetadata",
            "MetadataId": _id("key", entity.type_name, *[p.column.name for p in key]),
            "LogicalName": f"{entity.type_name}_{'_'.join(p.column.name for p in key)}",
            "SchemaName": f"{entity.type_name}_{'_'.join(p.column.name for p in key)}",
            "EntityLogicalName": entity.type_name,
            "KeyAttributes": [p.column.name for p in key],
            "EntityKeyIndexStatus": "Active",
        }
        for key in entity.alternate_keys
    ]


def _definition(model: ServiceModel, entity: EntitySet, tracked: set[str]) -> dict[str, Any]:
    return {
        "MetadataId": _id("entity", entity.type_name),
        "LogicalName": entity.type_name,
        "SchemaName": entity.type_name,
        "EntitySetName": entity.name,
        "LogicalCollectionName": entity.name,
        "PrimaryIdAttribute": entity.key[0].column.name,
        "PrimaryNameAttribute": PRIMARY_NAMES.get(entity.type_name),
        "ObjectTypeCode": 10000 + sorted(model.sets).index(entity.name),
        "IsCustomEntity": entity.type_name.startswith(("msdyn_", "cdm_")),
        "ChangeTrackingEnabled": entity.table.name in tracked,
        "CanChangeTrackingBeEnabled": {
            "Value": True,
            "CanBeChanged": True,
            "ManagedPropertyLogicalName": "canchangetracking",
        },
        "DisplayName": _label(entity.type_name),
        "Attributes": [_attribute(model, entity, n) for n in entity.properties],
        "Keys": _keys(entity),
        "OneToManyRelationships": _relationships(model, entity, many_to_one=False),
        "ManyToOneRelationships": _relationships(model, entity, many_to_one=True),
    }


def _matches(node: Any, record: dict[str, Any]) -> bool:
    """A tiny $filter evaluator for metadata: eq/ne of a property and a literal, and/or/not."""
    if isinstance(node, ast.BoolOp):
        left, right = _matches(node.left, record), _matches(node.right, record)
        return left and right if isinstance(node.op, ast.And) else left or right
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return not _matches(node.operand, record)
    if (
        isinstance(node, ast.Compare)
        and isinstance(node.comparator, ast.Eq | ast.NotEq)
        and isinstance(node.left, ast.Identifier)
        and hasattr(node.right, "py_val")
    ):
        value = record.get(node.left.name)
        if isinstance(value, dict) and "Value" in value:
            value = value["Value"]
        equal = value == node.right.py_val
        return equal if isinstance(node.comparator, ast.Eq) else not equal
    raise bad_request("This $filter on metadata is not supported: use eq, ne, and, or, not.")


def _select(
    record: dict[str, Any], names: tuple[str, ...] | None, keep: tuple[str, ...]
) -> dict[str, Any]:
    if not names:
        return record
    return {k: v for k, v in record.items() if k in names or k in keep or k.startswith("@")}


def _shape(record: dict[str, Any], options: QueryOptions) -> dict[str, Any]:
    expanded = {e.navigation: e for e in options.expand}
    for name in expanded:
        if name not in _CHILDREN:
            raise bad_request(
                f"Could not find a property named '{name}' on type "
                "'Microsoft.Dynamics.CRM.EntityMetadata'."
            )
    out = _select(record, options.select, ("MetadataId",))
    out = {k: v for k, v in out.items() if k not in _CHILDREN or k in expanded}
    for name, item in expanded.items():
        out[name] = [_select(child, item.select, ("MetadataId",)) for child in record[name]]
    return out


def entity_definitions(ctx: DvContext, req: ApiRequest, segments: list[Segment]) -> ApiResponse:
    model = ctx.model
    options = parse_query(req.query, skip_supported=False)
    tracked = installed_tables(ctx.engine)
    records = [_definition(model, e, tracked) for e in model.sets.values()]
    first = segments[0]
    context = ctx.context("EntityDefinitions")
    if first.key is not None:
        part = first.key[0] if len(first.key) == 1 else None
        if part is None:
            raise bad_request("EntityDefinitions are addressed by LogicalName='…' or MetadataId.")
        field = part.name or "MetadataId"
        if field not in ("LogicalName", "MetadataId"):
            raise bad_request(
                f"EntityDefinitions have no key '{field}': use LogicalName or MetadataId."
            )
        found = [r for r in records if r[field] == part.value]
        if not found:
            raise not_found_segment(first.raw)
        record = found[0]
        if len(segments) == 1:
            body = {"@odata.context": f"{context}/$entity", **_shape(record, options)}
            return ApiResponse.json(200, body)
        child = segments[1].name
        if child not in _CHILDREN or len(segments) > 3:
            raise not_found_segment(child)
        items = record[child]
        if segments[1].key:
            wanted = segments[1].key[0].value
            items = [i for i in items if wanted in (i.get("LogicalName"), i.get("MetadataId"))]
            if not items:
                raise not_found_segment(segments[1].raw)
            return ApiResponse.json(
                200,
                {
                    "@odata.context": f"{context}({record['MetadataId']})/{child}/$entity",
                    **_select(items[0], options.select, ("MetadataId",)),
                },
            )
        if len(segments) == 3:  # a cast: Attributes/Microsoft.Dynamics.CRM.LookupAttributeMetadata
            cast = f"#{segments[2].name}"
            items = [i for i in items if i.get("@odata.type") == cast]
        if options.filter:
            tree = parse_filter(options.filter)
            items = [i for i in items if _matches(tree, i)]
        value = [_select(i, options.select, ("MetadataId",)) for i in items]
        return ApiResponse.json(
            200, {"@odata.context": f"{context}({record['MetadataId']})/{child}", "value": value}
        )
    if len(segments) > 1:
        raise not_found_segment(segments[1].name)
    if options.filter:
        tree = parse_filter(options.filter)
        records = [r for r in records if _matches(tree, r)]
    return ApiResponse.json(
        200, {"@odata.context": context, "value": [_shape(r, options) for r in records]}
    )
