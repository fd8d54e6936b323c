"""Resource paths after the service root: segments, key predicates and their values.

Paths are read raw (still percent-encoded) so a `/` inside a key value (`%2F`) never splits a
segment; values are decoded afterwards. Some finance and operations clients encode `/` and `+`
twice (`%252F`); `double_decoded` undoes that for them."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import unquote

from dualwrite.odata.errors import ODataError, bad_request, not_found_segment
from dualwrite.odata.model import EntitySet, Kind, Property


@dataclass(frozen=True)
class KeyPart:
    name: str | None
    text: str  # the literal as written, decoded: 'US-001' with its quotes, a GUID, 42
    quoted: bool

    @property
    def value(self) -> str:
        return self.text[1:-1].replace("''", "'") if self.quoted else self.text


@dataclass(frozen=True)
class Segment:
    name: str
    key: tuple[KeyPart, ...] | None = None  # None: no parentheses; (): `WhoAmI()`
    raw: str = ""


_SEGMENT = re.compile(r"^([^()]+)(?:\((.*)\))?$", re.S)
_PART = re.compile(r"\s*(?:([A-Za-z_][A-Za-z0-9_]*)\s*=\s*)?('(?:[^']|'')*'|[^,'=]+)\s*(,|$)")


def split_segments(raw_path: str) -> list[str]:
    """Split on `/` outside quotes (a quoted key value may hold a literal slash)."""
    out, quoted, start = [], False, 0
    for i, ch in enumerate(raw_path):
        if ch == "'":
            quoted = not quoted
        elif ch == "/" and not quoted:
            out.append(raw_path[start:i])
            start = i + 1
    out.append(raw_path[start:])
    return [s for s in out if s != ""]


def _decode(text: str, double_decoded: bool) -> str:
    value = unquote(text)
    if double_decoded:
        value = re.sub(r"%2[Ff]", "/", value)
        value = re.sub(r"%2[Bb]", "+", value)
    return value


def parse_segment(raw: str, *, double_decoded: bool = False) -> Segment:
    match = _SEGMENT.match(raw)
    if not match:
        raise bad_request(f"Bad Request - Error in query syntax at segment '{unquote(raw)}'.")
    name = unquote(match.group(1))
    inside = match.group(2)
    if inside is None:
        return Segment(name, None, raw)
    parts = []
    position = 0
    while position < len(inside):
        part = _PART.match(inside, position)
        if not part or part.end() == position:
            raise bad_request(f"Bad Request - Error in query syntax at '{unquote(raw)}'.")
        text = _decode(part.group(2).strip(), double_decoded)
        parts.append(KeyPart(part.group(1), text, text.startswith("'") and text.endswith("'")))
        position = part.end()
        if part.group(3) == "" and position < len(inside):
            raise bad_request(f"Bad Request - Error in query syntax at '{unquote(raw)}'.")
    return Segment(name, tuple(parts), raw)


def parse_path(raw_path: str, *, double_decoded: bool = False) -> list[Segment]:
    return [parse_segment(s, double_decoded=double_decoded) for s in split_segments(raw_path)]


def key_value(prop: Property, part: KeyPart, entity: EntitySet) -> Any:
    """A key literal → the column value, checked against the property's type."""
    problem = (
        f"The key value {part.text} is not a valid {prop.edm} for the key property "
        f"'{prop.name}' of '{entity.qualified_type}'."
    )
    kind = prop.kind
    try:
        if kind is Kind.STRING:
            if not part.quoted:
                raise bad_request(problem)
            return part.value.upper() if prop.upper else part.value
        if kind is Kind.GUID:
            return str(uuid.UUID(part.value))
        if kind in (Kind.INT, Kind.BIGINT):
            if part.quoted:
                raise bad_request(problem)
            return int(part.value)
        if kind is Kind.DECIMAL:
            return Decimal(part.value)
        if kind is Kind.ENUM_NOYES:
            member = part.value.rsplit("'", 2)[-2] if part.value.endswith("'") else part.value
            return member == "Yes"
        if kind is Kind.BOOL:
            return part.value.lower() == "true"
    except (ValueError, InvalidOperation):
        raise bad_request(problem) from None
    raise bad_request(problem)


def _by_name(entity: EntitySet, name: str) -> Property:
    """Key parts name properties; lookup columns may be named as such (`msdyn_company`)."""
    if name in entity.properties:
        return entity.properties[name]
    if name in entity.by_column:
        return entity.by_column[name]
    raise bad_request(
        f"The key property '{name}' is not a property of '{entity.qualified_type}'.",
        target=name,
    )


def resolve_key(entity: EntitySet, parts: tuple[KeyPart, ...]) -> dict[str, Any]:
    """Column → value of the row a key predicate names: the key or an alternate key (all its
    parts, or — as Dataverse allows for company-striped alternate keys — a leading part)."""
    if not parts:
        raise bad_request(f"A key is required to address one '{entity.qualified_type}'.")
    if len(parts) == 1 and parts[0].name is None:
        if len(entity.key) != 1:
            names = ",".join(p.name for p in entity.key)
            raise bad_request(
                f"The key of '{entity.qualified_type}' has several parts: name them ({names})."
            )
        prop = entity.key[0]
        return {prop.column.name: key_value(prop, parts[0], entity)}
    if any(p.name is None for p in parts):
        raise bad_request("Key values must all be named when a key has several parts.")
    named = {}
    for part in parts:
        prop = _by_name(entity, str(part.name))
        if prop.column.name in named:
            raise bad_request(f"The key property '{part.name}' is given twice.")
        named[prop.column.name] = key_value(prop, part, entity)
    candidates = [tuple(p.column.name for p in entity.key)] + [
        tuple(p.column.name for p in k) for k in entity.alternate_keys
    ]
    if any(set(named) == set(c) for c in candidates):
        return named
    if any(set(named) < set(c) for c in candidates[1:]):
        return named
    raise ODataError(
        400,
        f"The key ({','.join(parts_name(p) for p in parts)}) does not match the key or an "
        f"alternate key of '{entity.qualified_type}'.",
    )


def parts_name(part: KeyPart) -> str:
    return f"{part.name}={part.text}" if part.name else part.text


def entity_set(sets: dict[str, EntitySet], segment: Segment) -> EntitySet:
    found = sets.get(segment.name)
    if found is None:
        raise not_found_segment(segment.name)
    return found
