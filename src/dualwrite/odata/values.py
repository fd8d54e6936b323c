"""Values between JSON, URL literals and columns: checked on the way in (type, length,
precision, required), converted once per column on the way out.

Out: rows are turned into JSON by orjson; only columns whose JSON differs from what orjson
writes get a converter (finance and operations' NoYes enum and lower-case dataAreaId), so a
page of rows costs one dict per row and no per-value Python calls for most columns."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson

from dualwrite.odata.errors import VALIDATION, ODataError, bad_request
from dualwrite.odata.model import Kind, Property

# Dataverse and F&O write times in UTC with a Z and whole seconds.
JSON_OPTIONS = orjson.OPT_NAIVE_UTC | orjson.OPT_UTC_Z | orjson.OPT_OMIT_MICROSECONDS


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        # A JSON number as the database holds it: no detour through float.
        text = str(value)
        if "E" in text or "N" in text or "I" in text:  # exponent, NaN, Infinity
            text = format(value, "f") if value.is_finite() else "null"
        return orjson.Fragment(text)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def dumps(document: Any) -> bytes:
    return orjson.dumps(document, default=_default, option=JSON_OPTIONS)


def _noyes(value: Any) -> Any:
    return None if value is None else ("Yes" if value else "No")


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def out_converter(prop: Property) -> Callable[[Any], Any] | None:
    """How a column value becomes its JSON value, None when orjson writes it as it is."""
    if prop.kind is Kind.ENUM_NOYES:
        return _noyes
    if prop.upper:
        return _lower
    return None


def to_json(prop: Property, value: Any) -> Any:
    convert = out_converter(prop)
    return convert(value) if convert else value


def _type_error(prop: Property, raw: Any) -> ODataError:
    shown = orjson.dumps(raw).decode() if not isinstance(raw, str) else raw
    return bad_request(
        f"Cannot convert the literal '{shown}' to the expected type '{prop.edm}'.",
        target=prop.name,
    )


def parse_datetime(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def from_json(prop: Property, raw: Any, entity: str) -> Any:
    """A JSON value for `prop` → the column value, or a 400 naming the property and the fault."""
    if raw is None:
        if not prop.nullable:
            raise ODataError(
                400, f"Attribute '{prop.name}' of entity '{entity}' cannot be null.", VALIDATION
            )
        return None
    kind = prop.kind
    try:
        if kind is Kind.STRING:
            if not isinstance(raw, str):
                raise _type_error(prop, raw)
            return _checked_length(prop, raw.upper() if prop.upper else raw, entity)
        if kind is Kind.GUID:
            if not isinstance(raw, str):
                raise _type_error(prop, raw)
            return str(uuid.UUID(raw))
        if kind in (Kind.INT, Kind.BIGINT):
            if isinstance(raw, bool) or not isinstance(raw, int):
                raise _type_error(prop, raw)
            limit = 2**31 if kind is Kind.INT else 2**63
            if not -limit <= raw < limit:
                raise ODataError(400, f"The value of '{prop.name}' is out of range.", VALIDATION)
            return raw
        if kind is Kind.DECIMAL:
            if isinstance(raw, bool) or not isinstance(raw, int | float | Decimal | str):
                raise _type_error(prop, raw)
            return _checked_decimal(prop, Decimal(str(raw)), entity)
        if kind is Kind.BOOL:
            if not isinstance(raw, bool):
                raise _type_error(prop, raw)
            return raw
        if kind is Kind.ENUM_NOYES:
            if raw in ("Yes", "No"):
                return raw == "Yes"
            raise bad_request(
                f"The value '{raw}' is not a member of the enum type '{prop.edm}' "
                f"(property '{prop.name}'): use 'Yes' or 'No'.",
                target=prop.name,
            )
        if kind is Kind.DATETIME:
            if not isinstance(raw, str):
                raise _type_error(prop, raw)
            return parse_datetime(raw)
        if kind is Kind.DATE:
            if not isinstance(raw, str):
                raise _type_error(prop, raw)
            return date.fromisoformat(raw)
    except (ValueError, InvalidOperation):
        raise _type_error(prop, raw) from None
    raise _type_error(prop, raw)  # pragma: no cover - every kind is handled above


def _checked_length(prop: Property, value: str, entity: str) -> str:
    if prop.max_length is not None and len(value) > prop.max_length:
        raise ODataError(
            400,
            f"A validation error occurred. The length of the '{prop.name}' attribute of the "
            f"'{entity}' entity exceeded the maximum allowed length of '{prop.max_length}'.",
            VALIDATION,
        )
    return value


def _checked_decimal(prop: Property, value: Decimal, entity: str) -> Decimal:
    if not value.is_finite():
        raise _type_error(prop, str(value))
    if prop.precision is not None:
        scale = prop.scale or 0
        digits = len(value.quantize(Decimal(1)).as_tuple().digits) if value else 0
        if digits > prop.precision - scale:
            raise ODataError(
                400,
                f"A validation error occurred. The value {value} of the '{prop.name}' attribute "
                f"of the '{entity}' entity is outside the allowed range.",
                VALIDATION,
            )
        value = value.quantize(Decimal(1).scaleb(-scale))
    return value
