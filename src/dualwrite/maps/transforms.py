"""Turning a row of one side into the other side's values: fields, value maps, defaults, filters.

Pure functions on dicts. Lookups are only listed here (`LookupNeed`); resolving them needs the
other side's data and belongs to the engine.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from dualwrite.maps.model import (
    FieldMap,
    Filter,
    Lookup,
    Side,
    TableMap,
    canonical,
    writes_dv,
    writes_fo,
)

Row = dict[str, Any]
_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


@dataclass(frozen=True)
class LookupNeed:
    lookup: Lookup
    value: Any  # the source side's value: an F&O key value, or a Dataverse GUID


def _same(a: Any, b: Any) -> bool:
    return bool(canonical(a) == canonical(b))


def _ordered(value: Any) -> Any:
    # Numbers compare as Decimal (money comes back as Decimal, TOML gives int/float);
    # text and moments compare as they are.
    return canonical(value) if isinstance(value, int | float | Decimal) else value


def _to_dv(fm: FieldMap, value: Any) -> Any:
    if value is None:
        return fm.default
    if fm.values is None:
        return value
    for fo_value, dv_value in fm.values.pairs:
        if _same(fo_value, value):
            return dv_value
    return fm.values.default_dv


def _to_fo(fm: FieldMap, value: Any) -> Any:
    if value is None:
        return fm.default
    if fm.values is None:
        return value
    for fo_value, dv_value in fm.values.pairs:
        if _same(dv_value, value):
            return fo_value
    return fm.values.default_fo


def to_dataverse(tmap: TableMap, fo_row: Row) -> tuple[Row, list[LookupNeed]]:
    """Dataverse values for an F&O row: key, fields that flow to Dataverse, lookups to resolve."""
    out: Row = {dv: fo_row.get(fo) for fo, dv in tmap.key}
    for fm in tmap.fields:
        if writes_dv(fm.direction):
            out[fm.dv] = _to_dv(fm, fo_row.get(fm.fo))
    needs = [
        LookupNeed(lk, fo_row.get(lk.fo))
        for lk in tmap.all_lookups()
        if lk is tmap.company or writes_dv(lk.direction)
    ]
    return out, needs


def to_fo(tmap: TableMap, dv_row: Row) -> tuple[Row, list[LookupNeed]]:
    """F&O values for a Dataverse row: key, fields that flow to F&O, lookups to resolve."""
    out: Row = {fo: dv_row.get(dv) for fo, dv in tmap.key}
    for fm in tmap.fields:
        if writes_fo(fm.direction):
            out[fm.fo] = _to_fo(fm, dv_row.get(fm.dv))
    needs = [
        LookupNeed(lk, dv_row.get(lk.dv))
        for lk in tmap.all_lookups()
        if lk is tmap.company or writes_fo(lk.direction)
    ]
    return out, needs


def _matches(flt: Filter, row: Row) -> bool:
    value = row.get(flt.column)
    if flt.op == "is_null":
        return value is None
    if flt.op == "not_null":
        return value is not None
    if flt.op == "in":
        return any(_same(value, v) for v in flt.value or [])
    if value is None:
        return False  # as in SQL: NULL passes no comparison, not even !=
    if flt.op == "=":
        return _same(value, flt.value)
    if flt.op == "!=":
        return not _same(value, flt.value)
    try:
        return bool(_COMPARE[flt.op](_ordered(value), _ordered(flt.value)))
    except TypeError:  # a number against text: validation refuses it, a row may still hold it
        return False


def matches_filters(tmap: TableMap, side: Side, row: Row) -> bool:
    """True when the row passes every filter of its side (filters are AND-ed)."""
    filters = tmap.fo_filters if side == "fo" else tmap.dv_filters
    return all(_matches(f, row) for f in filters)
