"""CSDL `$metadata` (XML) and the service document, generated from the entity model."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree as ET

from dualwrite.odata.model import EntitySet, Kind, ServiceModel

EDMX = "http://docs.oasis-open.org/odata/ns/edmx"
EDM = "http://docs.oasis-open.org/odata/ns/edm"

# Functions, actions and complex types a platform adds to its schema (Dataverse: WhoAmI).
Extra = tuple[tuple[str, dict[str, str], tuple[tuple[str, dict[str, str]], ...]], ...]


def _property(parent: ET.Element, entity: EntitySet, name: str) -> None:
    prop = entity.properties[name]
    attrs = {"Name": prop.name, "Type": prop.edm}
    if not prop.nullable:
        attrs["Nullable"] = "false"
    if prop.max_length is not None:
        attrs["MaxLength"] = str(prop.max_length)
    if prop.kind is Kind.DECIMAL and prop.precision is not None:
        attrs["Precision"] = str(prop.precision)
        attrs["Scale"] = str(prop.scale or 0)
    if prop.kind is Kind.DATETIME:
        attrs["Precision"] = "0"
    ET.SubElement(parent, "Property", attrs)


def _entity_type(schema: ET.Element, model: ServiceModel, entity: EntitySet) -> None:
    node = ET.SubElement(schema, "EntityType", {"Name": entity.type_name})
    key = ET.SubElement(node, "Key")
    for prop in entity.key:
        ET.SubElement(key, "PropertyRef", {"Name": prop.name})
    for name in entity.properties:
        _property(node, entity, name)
    for nav in entity.navigations.values():
        target = model.sets[nav.target]
        nullable = all(entity.by_column[local].nullable for local, _ in nav.pairs)
        attrs = {"Name": nav.name, "Type": target.qualified_type}
        if not nullable:
            attrs["Nullable"] = "false"
        element = ET.SubElement(node, "NavigationProperty", attrs)
        for local, remote in nav.pairs:
            ET.SubElement(
                element,
                "ReferentialConstraint",
                {
                    "Property": entity.by_column[local].name,
                    "ReferencedProperty": target.by_column[remote].name,
                },
            )


def _extra(schema: ET.Element, extra: Extra) -> None:
    for tag, attrs, children in extra:
        node = ET.SubElement(schema, tag, attrs)
        for child_tag, child_attrs in children:
            ET.SubElement(node, child_tag, child_attrs)


def metadata_xml(model: ServiceModel, extra: Extra = (), imports: Extra = ()) -> bytes:
    root = ET.Element("edmx:Edmx", {"Version": "4.0", "xmlns:edmx": EDMX})
    services = ET.SubElement(root, "edmx:DataServices")
    schema = ET.SubElement(services, "Schema", {"Namespace": model.namespace, "xmlns": EDM})
    for enum_name, members in model.enum_types.items():
        enum = ET.SubElement(schema, "EnumType", {"Name": enum_name.rsplit(".", 1)[-1]})
        for member, value in members:
            ET.SubElement(enum, "Member", {"Name": member, "Value": str(value)})
    for entity in model.sets.values():
        _entity_type(schema, model, entity)
    _extra(schema, extra)
    container = ET.SubElement(schema, "EntityContainer", {"Name": model.container})
    for entity in model.sets.values():
        node = ET.SubElement(
            container, "EntitySet", {"Name": entity.name, "EntityType": entity.qualified_type}
        )
        for nav in entity.navigations.values():
            ET.SubElement(
                node, "NavigationPropertyBinding", {"Path": nav.name, "Target": nav.target}
            )
    _extra(container, imports)
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return body


def service_document(model: ServiceModel, context: str) -> dict[str, Any]:
    return {
        "@odata.context": context,
        "value": [
            {"name": s.name, "kind": "EntitySet", "url": s.name} for s in model.sets.values()
        ],
    }
