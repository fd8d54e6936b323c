"""Solutions and table maps as plain data: what maps to what, in which direction, by which key."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

Direction = Literal["fo_to_dv", "dv_to_fo", "both"]
Side = Literal["fo", "dataverse"]
DIRECTIONS: dict[str, Direction] = {
    "->": "fo_to_dv",
    "<-": "dv_to_fo",
    "<->": "both",
    "fo_to_dv": "fo_to_dv",
    "dv_to_fo": "dv_to_fo",
    "both": "both",
}
FILTER_OPS = ("=", "!=", "<", "<=", ">", ">=", "in", "is_null", "not_null")


def canonical(value: Any) -> Any:
    """A hashable form under which equal values meet: 1, 1.0, Decimal("1.00") and True are one.

    Drivers hand booleans back as 0/1 and money as Decimal, so values are compared by number;
    text never equals a number ("1" is not 1).
    """
    if isinstance(value, bool | int | float | Decimal):
        return Decimal(str(int(value) if isinstance(value, bool) else value))
    if isinstance(value, list | tuple):
        return tuple(canonical(v) for v in value)
    return ("text", value) if isinstance(value, str) else ("other", repr(value))


def writes_dv(direction: Direction) -> bool:
    return direction in ("fo_to_dv", "both")


def writes_fo(direction: Direction) -> bool:
    return direction in ("dv_to_fo", "both")


@dataclass(frozen=True)
class ValueMap:
    """Translates values between the sides, e.g. F&O "Yes"/"No" ↔ Dataverse true/false."""

    pairs: tuple[tuple[Any, Any], ...]  # (fo value, dataverse value)
    default_dv: Any = None  # for an F&O value not in the table
    default_fo: Any = None  # for a Dataverse value not in the table

    def invertible(self) -> bool:
        """True when each side's values are distinct, so one table serves both directions."""
        fo_values = {canonical(fo) for fo, _ in self.pairs}
        dv_values = {canonical(dv) for _, dv in self.pairs}
        return len(fo_values) == len(dv_values) == len(self.pairs)


@dataclass(frozen=True)
class FieldMap:
    fo: str
    dv: str
    direction: Direction
    values: ValueMap | None = None
    # Constant written when the source value is missing (None), in either direction.
    default: Any = None


@dataclass(frozen=True)
class Lookup:
    """A Dataverse lookup (GUID) ↔ an F&O column holding the other map's key value."""

    fo: str
    dv: str
    map: str
    direction: Direction = "both"


@dataclass(frozen=True)
class Filter:
    column: str
    op: str
    value: Any = None


@dataclass(frozen=True)
class TableMap:
    name: str
    fo: str  # F&O entity (table)
    dv: str  # Dataverse table
    key: tuple[tuple[str, str], ...]  # integration key: (fo column, dataverse column) pairs
    fields: tuple[FieldMap, ...] = ()
    lookups: tuple[Lookup, ...] = ()
    company: Lookup | None = None  # company striping: dataareaid ↔ company lookup
    fo_filters: tuple[Filter, ...] = ()
    dv_filters: tuple[Filter, ...] = ()
    master: Side = "fo"
    source: str = ""  # file it was loaded from, for messages

    @property
    def depends_on(self) -> tuple[str, ...]:
        """Maps whose rows must exist first: every lookup's map, the company map included."""
        names = [lk.map for lk in self.all_lookups()]
        return tuple(dict.fromkeys(n for n in names if n != self.name))

    @property
    def flows_to_fo(self) -> bool:
        """True when anything flows from Dataverse back to F&O (else the map is one-way)."""
        directions = [f.direction for f in self.fields] + [lk.direction for lk in self.lookups]
        return any(writes_fo(d) for d in directions)

    def all_lookups(self) -> tuple[Lookup, ...]:
        return ((self.company,) if self.company else ()) + self.lookups

    @property
    def fo_key(self) -> tuple[str, ...]:
        company = (self.company.fo,) if self.company else ()
        return company + tuple(fo for fo, _ in self.key)

    @property
    def dv_key(self) -> tuple[str, ...]:
        company = (self.company.dv,) if self.company else ()
        return company + tuple(dv for _, dv in self.key)


@dataclass(frozen=True)
class Solution:
    name: str
    version: str
    publisher: str
    maps: tuple[TableMap, ...]
    description: str = ""
    requires: tuple[str, ...] = ()
    source: str = ""
    notes: tuple[str, ...] = field(default=(), compare=False)
