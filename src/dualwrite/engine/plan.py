"""A table map's transform for one direction, worked out once instead of for every record.

`maps.transforms` decides per row which fields flow, scans value-map pairs and re-reads each
filter; a plan settles those questions when the map is loaded, so a record only pays for the
dictionary look-ups it needs. Its results are the same as `to_dataverse` / `to_fo` and
`matches_filters` (tests/engine/test_plan.py compares them).
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import Table

from dualwrite.maps.model import FieldMap, Filter, Lookup, TableMap, canonical, writes_dv, writes_fo

Row = dict[str, Any]
_MISSING = object()
_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


@dataclass(frozen=True)
class FieldPlan:
    source: str
    target: str
    default: Any
    # canonical source value -> target value; None when the field has no value map
    values: dict[Any, Any] | None
    fallback: Any  # the value map's default for a value not in the table
    # The text entries of `values` by the plain string (canonical(s) is ("text", s)).
    texts: dict[str, Any] = field(default_factory=dict)

    def convert(self, value: Any) -> Any:
        if value is None:
            return self.default
        if self.values is None:
            return value
        if value.__class__ is str:
            found = self.texts.get(value, _MISSING)
        else:
            found = self.values.get(canonical(value), _MISSING)
        return self.fallback if found is _MISSING else found


@dataclass(frozen=True)
class LookupPlan:
    lookup: Lookup
    source: str  # the source column holding the value to resolve
    target: str  # the target column receiving the resolved value
    is_company: bool


def _field_plan(fm: FieldMap, to_dv: bool) -> FieldPlan:
    if fm.values is None:
        return FieldPlan(
            fm.fo if to_dv else fm.dv, fm.dv if to_dv else fm.fo, fm.default, None, None
        )
    table: dict[Any, Any] = {}
    for fo_value, dv_value in fm.values.pairs:
        # The first matching pair wins, as in a scan of the pairs.
        table.setdefault(
            canonical(fo_value if to_dv else dv_value), dv_value if to_dv else fo_value
        )
    fallback = fm.values.default_dv if to_dv else fm.values.default_fo
    texts = {k[1]: v for k, v in table.items() if isinstance(k, tuple) and k[0] == "text"}
    return FieldPlan(
        fm.fo if to_dv else fm.dv, fm.dv if to_dv else fm.fo, fm.default, table, fallback, texts
    )


def _ordered(value: Any) -> Any:
    return canonical(value) if isinstance(value, int | float | Decimal) else value


def _filter_check(flt: Filter) -> Callable[[Row], bool]:
    column, op = flt.column, flt.op
    if op == "is_null":
        return lambda row: row.get(column) is None
    if op == "not_null":
        return lambda row: row.get(column) is not None
    if op == "in":
        wanted = [canonical(v) for v in flt.value or []]
        return lambda row: canonical(row.get(column)) in wanted
    if op in ("=", "!=") and isinstance(flt.value, str):
        text = flt.value  # only text equals text: compare the strings themselves
        if op == "=":
            return lambda row: isinstance(v := row.get(column), str) and v == text
        return lambda row: (
            (v := row.get(column)) is not None and not (isinstance(v, str) and v == text)
        )
    if op in ("=", "!="):
        expected = canonical(flt.value)
        if op == "=":
            return lambda row: (v := row.get(column)) is not None and canonical(v) == expected
        return lambda row: (v := row.get(column)) is not None and canonical(v) != expected
    compare = _COMPARE[op]
    bound = _ordered(flt.value)

    def check(row: Row) -> bool:
        value = row.get(column)
        if value is None:
            return False
        try:
            return bool(compare(_ordered(value), bound))
        except TypeError:  # a number against text: validation refuses it, a row may still hold it
            return False

    return check


@dataclass(frozen=True)
class Plan:
    keys: tuple[tuple[str, str], ...]  # (source column, target column)
    fields: tuple[FieldPlan, ...]
    lookups: tuple[LookupPlan, ...]
    company: LookupPlan | None
    checks: tuple[Callable[[Row], bool], ...]
    columns: tuple[str, ...]  # every target column a transformed record carries, in order
    # Keys and fields as parallel (source, target) columns when no two write one target: then
    # a record is copied in one go and only fields with a default or value map are converted.
    copied: tuple[tuple[str, ...], tuple[str, ...]] | None = None
    converted: tuple[FieldPlan, ...] = ()

    def matches(self, row: Row) -> bool:
        return all(check(row) for check in self.checks)

    def values(self, row: Row) -> Row:
        """The target values that need no lookup: keys and fields."""
        if self.copied is not None:
            sources, targets = self.copied
            out = dict(zip(targets, map(row.get, sources), strict=True))
            for fp in self.converted:
                out[fp.target] = fp.convert(out[fp.target])
            return out
        out = {target: row.get(source) for source, target in self.keys}
        for fp in self.fields:
            out[fp.target] = fp.convert(row.get(fp.source))
        return out


def plan_for(tmap: TableMap, direction: Literal["fo_to_dv", "dv_to_fo"]) -> Plan:
    to_dv = direction == "fo_to_dv"
    writes = writes_dv if to_dv else writes_fo
    keys = tuple((fo, dv) if to_dv else (dv, fo) for fo, dv in tmap.key)
    fields = tuple(_field_plan(fm, to_dv) for fm in tmap.fields if writes(fm.direction))
    lookups = tuple(
        LookupPlan(
            lk,
            lk.fo if to_dv else lk.dv,
            lk.dv if to_dv else lk.fo,
            lk is tmap.company,
        )
        for lk in tmap.all_lookups()
        if lk is tmap.company or writes(lk.direction)
    )
    company = next((lp for lp in lookups if lp.is_company), None)
    filters = tmap.fo_filters if to_dv else tmap.dv_filters
    columns = tuple(
        dict.fromkeys(
            [t for _, t in keys] + [fp.target for fp in fields] + [lp.target for lp in lookups]
        )
    )
    checks = tuple(_filter_check(f) for f in filters)
    pairs = [*keys, *((fp.source, fp.target) for fp in fields)]
    targets = tuple(t for _, t in pairs)
    if len(set(targets)) != len(targets):
        return Plan(keys, fields, lookups, company, checks, columns)
    copied = (tuple(s for s, _ in pairs), targets)
    converted = tuple(fp for fp in fields if fp.values is not None or fp.default is not None)
    return Plan(keys, fields, lookups, company, checks, columns, copied, converted)


def source_columns(tmap: TableMap, direction: Literal["fo_to_dv", "dv_to_fo"]) -> tuple[str, ...]:
    """Every source column a record's transform, filters and legal-entity scope read."""
    plan = plan_for(tmap, direction)
    to_dv = direction == "fo_to_dv"
    filters = tmap.fo_filters if to_dv else tmap.dv_filters
    return tuple(
        dict.fromkeys(
            [s for s, _ in plan.keys]
            + [fp.source for fp in plan.fields]
            + [lp.source for lp in plan.lookups]
            + [f.column for f in filters]
        )
    )


@functools.cache
def string_limits(table: Table, columns: tuple[str, ...]) -> tuple[tuple[str, int], ...]:
    """(column, maximum length) for the bounded string columns among `columns`."""
    out = []
    for name in columns:
        length = getattr(table.c[name].type, "length", None) if name in table.c else None
        if length:
            out.append((name, int(length)))
    return tuple(out)
