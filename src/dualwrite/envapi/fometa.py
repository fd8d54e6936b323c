"""Finance and operations' metadata service (`/Metadata/`), as integration tools query it:
`DataEntities`, `PublicEntities('CustomerV3')` (fields, keys, navigation) and
`PublicEnumerations`, from the same public names as the OData service."""

from __future__ import annotations

from typing import Any

from dualwrite.envapi.fomodel import fo_model, internal_entity
from dualwrite.envapi.http import ApiRequest, ApiResponse
from dualwrite.odata.errors import not_found_segment
from dualwrite.odata.keys import parse_path
from dualwrite.odata.model import EntitySet, Kind

_DATA_TYPES = {
    Kind.STRING: "String",
    Kind.INT: "Integer",
    Kind.BIGINT: "Int64",
    Kind.DECIMAL: "Real",
    Kind.BOOL: "Enum",
    Kind.ENUM_NOYES: "Enum",
    Kind.DATETIME: "DateTime",
    Kind.DATE: "Date",
    Kind.GUID: "Guid",
}


def _data_entity(entity: EntitySet) -> dict[str, Any]:
    return {
        "Name": internal_entity(entity.table.name),
        "PublicEntityName": entity.type_name,
        "PublicCollectionName": entity.name,
        "EntityCategory": "Master",
        "DataServiceEnabled": True,
        "DataManagementEnabled": True,
        "IsReadOnly": False,
    }


def _public_entity(entity: EntitySet) -> dict[str, Any]:
    keys = {p.name for p in entity.key}
    return {
        "Name": entity.type_name,
        "EntitySetName": entity.name,
        "IsReadOnly": False,
        "ConfigurationEnabled": True,
        "Properties": [
            {
                "Name": p.name,
                "TypeName": p.edm,
                "DataType": _DATA_TYPES[p.kind],
                "IsKey": p.name in keys,
                "IsMandatory": not p.nullable,
                "AllowEdit": p.name not in keys,
                "AllowEditOnCreate": True,
                "IsDimension": False,
                "ConfigurationEnabled": True,
            }
            for p in entity.properties.values()
        ],
        "NavigationProperties": [
            {
                "Name": nav.name,
                "RelatedEntity": fo_model().sets[nav.target].type_name,
                "Constraints": [
                    {
                        "Property": entity.by_column[local].name,
                        "RelatedProperty": fo_model().sets[nav.target].by_column[remote].name,
                    }
                    for local, remote in nav.pairs
                ],
            }
            for nav in entity.navigations.values()
        ],
    }


def metadata_service(base: str, req: ApiRequest) -> ApiResponse:
    model = fo_model()
    segments = parse_path(req.path)
    if not segments:
        raise not_found_segment("Metadata")
    first = segments[0]
    context = f"{base}/$metadata#{first.name}"
    by_type = {e.type_name: e for e in model.sets.values()}
    if first.name == "DataEntities" and first.key is None:
        value = [_data_entity(e) for e in model.sets.values()]
        return ApiResponse.json(200, {"@odata.context": context, "value": value})
    if first.name == "PublicEntities":
        if first.key is None:
            value = [_public_entity(e) for e in model.sets.values()]
            return ApiResponse.json(200, {"@odata.context": context, "value": value})
        wanted = first.key[0].value if len(first.key) == 1 else ""
        if wanted not in by_type:
            raise not_found_segment(first.raw)
        body = {"@odata.context": f"{context}/$entity", **_public_entity(by_type[wanted])}
        return ApiResponse.json(200, body)
    if first.name == "PublicEnumerations" and first.key is None:
        value = [
            {
                "Name": name.rsplit(".", 1)[-1],
                "Members": [{"Name": m, "Value": v, "LabelId": ""} for m, v in members],
            }
            for name, members in model.enum_types.items()
        ]
        return ApiResponse.json(200, {"@odata.context": context, "value": value})
    raise not_found_segment(first.name)
