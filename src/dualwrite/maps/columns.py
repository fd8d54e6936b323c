"""What a schema says about a column: type family, keys, length, whether an insert needs it."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Integer,
    Numeric,
    String,
    Table,
    UniqueConstraint,
)

# Set by the platform on every write: a map may read them, never write them.
READ_ONLY = {
    "fo": frozenset({"recid", "modifieddatetime"}),
    "dataverse": frozenset({"createdon", "modifiedon"}),
}


def family(column: Column[Any]) -> str:
    """The type family that decides which columns may map to which without a value map."""
    kind = column.type
    if (
        isinstance(kind, String)
        and kind.length == 36
        and (column.primary_key or column.foreign_keys)
    ):
        return "guid"  # a Dataverse primary key or lookup
    if isinstance(kind, Boolean):
        return "boolean"
    if isinstance(kind, Integer | Numeric):
        return "number"
    if isinstance(kind, DateTime):
        return "datetime"
    if isinstance(kind, Date):
        return "date"
    if isinstance(kind, String):
        return "string"
    return type(kind).__name__.lower()


def fits(kind: str, value: Any) -> bool:
    """True when a constant from a solution file (a TOML value) can be stored in the family."""
    if value is None:
        return True
    if kind in ("string", "guid"):
        return isinstance(value, str)
    if kind == "number":
        return isinstance(value, int | float | Decimal) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "datetime":
        return isinstance(value, datetime)
    if kind == "date":
        return isinstance(value, date) and not isinstance(value, datetime)
    return True  # a family we do not know: the database decides


_TRUE, _FALSE = {"true", "yes", "1"}, {"false", "no", "0"}
_EXAMPLES = {
    "number": "digits such as 1500 or 12.5",
    "boolean": "true or false",
    "datetime": "an ISO 8601 moment such as 2026-01-31T09:30:00",
    "date": "an ISO 8601 date such as 2026-01-31",
}


def parse_constant(kind: str, text: str) -> Any:
    """A constant typed by a person (a form field, a CLI option) as a value of the family.

    Raises ValueError saying what the family expects; text families take the text as it is.
    """
    value = text.strip()
    try:
        if kind == "number":
            number = Decimal(value)
            if not number.is_finite():
                raise InvalidOperation
            return int(number) if number == number.to_integral_value() else number
        if kind == "boolean":
            if value.lower() in _TRUE | _FALSE:
                return value.lower() in _TRUE
            raise ValueError
        if kind == "datetime":
            return datetime.fromisoformat(value)
        if kind == "date":
            return date.fromisoformat(value)
    except (ValueError, InvalidOperation):
        raise ValueError(f"{text!r} is not a {kind}; write {_EXAMPLES[kind]}") from None
    return text


def max_length(column: Column[Any]) -> int | None:
    length = getattr(column.type, "length", None)
    return int(length) if length else None


def has_fraction(column: Column[Any]) -> bool:
    kind = column.type
    return isinstance(kind, Float) or (isinstance(kind, Numeric) and bool(kind.scale))


def is_whole(column: Column[Any]) -> bool:
    kind = column.type
    return isinstance(kind, Integer) or (
        isinstance(kind, Numeric) and not isinstance(kind, Float) and kind.scale == 0
    )


def unique_sets(table: Table) -> list[frozenset[str]]:
    """Column sets the database keeps unique: the primary key, unique constraints and indexes."""
    sets = [frozenset(c.name for c in table.primary_key.columns)]
    sets += [
        frozenset(c.name for c in con.columns)
        for con in table.constraints
        if isinstance(con, UniqueConstraint)
    ]
    sets += [frozenset(c.name for c in ix.columns) for ix in table.indexes if ix.unique]
    sets += [frozenset({c.name}) for c in table.columns if c.unique]
    return sets


def references(column: Column[Any]) -> set[str]:
    """Tables a lookup column points to."""
    # target_fullname needs no resolution, so a lookup to a table outside the metadata is named
    return {fk.target_fullname.rsplit(".", 1)[0] for fk in column.foreign_keys}


def required(table: Table) -> list[str]:
    """Columns an insert must fill: NOT NULL without any default (surrogate keys are generated)."""
    return [
        c.name
        for c in table.columns
        if not c.nullable and not c.primary_key and c.server_default is None and c.default is None
    ]
