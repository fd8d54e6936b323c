"""Reading entity sets: one SELECT per page, keyset paging, `$select`, `$orderby`, `$top`,
`$skip`, `$count` and one level of `$expand`, rows shaped into JSON-ready dicts.

Paging is by key, never by offset: the skip token carries the last row's order values and
primary key, and the next page starts after them — pages stay exact under concurrent inserts
and page 20 costs what page 1 does. NULLs sort last ascending (first descending) on every
backend, so the order (and the token) means the same on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Select,
    and_,
    case,
    false,
    func,
    or_,
    select,
    tuple_,
)

from dualwrite.odata import tokens
from dualwrite.odata.errors import ODataError, bad_request, unknown_property
from dualwrite.odata.filters import Dialect, compile_filter
from dualwrite.odata.model import EntitySet, Property, ServiceModel
from dualwrite.odata.query import QueryOptions
from dualwrite.odata.values import out_converter

SKIP_PURPOSE = "skiptoken"
Row = dict[str, Any]


@dataclass(frozen=True)
class Flavor:
    """What differs between the platforms when reading."""

    dialect: Dialect
    etag_columns: Callable[[EntitySet], Sequence[Column[Any]]]
    etag: Callable[[Sequence[Any]], str]  # values of etag_columns → ETag
    etag_one: Callable[[Any], str] | None  # the same for a one-column ETag, from its value
    always_key: bool  # Dataverse answers the primary key even when not selected
    default_page: int
    max_page: int
    count_cap: int | None = None  # Dataverse counts up to 5,000


@dataclass
class Shape:
    """How rows of one SELECT become dicts: the selected properties first, then what the
    ETag, the order and the expansions need."""

    entity: EntitySet
    selected: list[Property]
    columns: list[Column[Any]] = field(default_factory=list)
    etag_at: tuple[int, int] = (0, 0)
    converters: list[tuple[str, int, Callable[[Any], Any]]] = field(default_factory=list)

    def add(self, column: Column[Any]) -> int:
        self.columns.append(column)
        return len(self.columns) - 1

    def labelled(self) -> list[ColumnElement[Any]]:
        return [c.label(f"c{i}") for i, c in enumerate(self.columns)]


def selection(entity: EntitySet, names: Sequence[str] | None, always_key: bool) -> list[Property]:
    if not names:
        return list(entity.properties.values())
    props = [entity.prop(n) for n in dict.fromkeys(names)]
    if always_key:
        props += [k for k in entity.key if k not in props]
    return props


def make_shape(entity: EntitySet, names: Sequence[str] | None, flavor: Flavor) -> Shape:
    """Columns in the order the shaper reads them: the ETag's, then the selected properties."""
    shape = Shape(entity, selection(entity, names, flavor.always_key))
    for column in flavor.etag_columns(entity):
        shape.add(column)
    shape.etag_at = (0, len(shape.columns))
    for prop in shape.selected:
        index = shape.add(prop.column)
        convert = out_converter(prop)
        if convert is not None:
            shape.converters.append((prop.name, index, convert))
    return shape


def shaper(shape: Shape, flavor: Flavor) -> Callable[[Sequence[Any]], Row]:
    names = [p.name for p in shape.selected]
    converters = shape.converters
    _lo, width = shape.etag_at
    etag = flavor.etag
    if width == 1 and flavor.etag_one is not None:
        # The ETag's one column comes first: one dict from one zip, then the ETag in place —
        # the cheapest shape per row (zip stops at the names; later columns are for paging).
        keys = ["@odata.etag", *names]
        one = flavor.etag_one

        def single(row: Sequence[Any]) -> Row:
            out = dict(zip(keys, row, strict=False))
            out["@odata.etag"] = one(row[0])
            for name, index, convert in converters:
                out[name] = convert(row[index])
            return out

        return single

    def hashed(row: Sequence[Any]) -> Row:
        out = {"@odata.etag": etag(row[:width])}
        out.update(zip(names, row[width:], strict=False))
        for name, index, convert in converters:
            out[name] = convert(row[index])
        return out

    return hashed


@dataclass(frozen=True)
class _OrderTerm:
    column: Column[Any]
    descending: bool
    nullable: bool


def _order_terms(entity: EntitySet, options: QueryOptions) -> list[_OrderTerm]:
    terms = []
    for order in options.orderby:
        prop = entity.prop(order.name)
        terms.append(_OrderTerm(prop.column, order.descending, bool(prop.column.nullable)))
    used = {t.column.name for t in terms}
    terms += [_OrderTerm(c, False, False) for c in entity.row_key if c.name not in used]
    return terms


def _order_by(terms: Sequence[_OrderTerm]) -> list[ColumnElement[Any]]:
    out: list[ColumnElement[Any]] = []
    for term in terms:
        if term.nullable:
            nulls = case((term.column.is_(None), 1), else_=0)
            out.append(nulls.desc() if term.descending else nulls.asc())
        out.append(term.column.desc() if term.descending else term.column.asc())
    return out


def _after(terms: Sequence[_OrderTerm], last: Sequence[Any]) -> ColumnElement[bool]:
    """Rows after `last` in the order of `terms` (a keyset condition, NULL-aware)."""
    if len(terms) == 1 and not terms[0].nullable and not terms[0].descending:
        return cast(ColumnElement[bool], terms[0].column > last[0])
    if all(not t.nullable and not t.descending for t in terms) and len(terms) > 1:
        return tuple_(*(t.column for t in terms)) > tuple_(*last)
    alternatives = []
    equal: list[ColumnElement[bool]] = []
    for term, value in zip(terms, last, strict=True):
        column = term.column
        if value is None:
            beyond: ColumnElement[bool] = column.is_not(None) if term.descending else false()
            same: ColumnElement[bool] = column.is_(None)
        else:
            if term.descending:
                beyond = column < value
            elif term.nullable:
                beyond = or_(column > value, column.is_(None))
            else:
                beyond = column > value
            same = column == value
        alternatives.append(and_(*equal, beyond) if equal else beyond)
        equal.append(same)
    return or_(*alternatives)


@dataclass
class Page:
    rows: list[Row]
    next_token: str | None
    count: int | None
    carried: dict[str, Any] = field(default_factory=dict)  # what the caller put in the token


def mapping_shaper(
    entity: EntitySet, names: Sequence[str] | None, flavor: Flavor
) -> Callable[[Row], Row]:
    """Like `shaper`, for a row given as a dict of every column (change tracking)."""
    props = selection(entity, names, flavor.always_key)
    converted = [(p.name, p.column.name, out_converter(p)) for p in props]
    etag_columns = [c.name for c in flavor.etag_columns(entity)]
    etag = flavor.etag

    def shape(row: Row) -> Row:
        out = {"@odata.etag": etag([row[c] for c in etag_columns])}
        for name, column, convert in converted:
            value = row[column]
            out[name] = convert(value) if convert else value
        return out

    return shape


def where_clause(
    entity: EntitySet, options: QueryOptions, flavor: Flavor, scope: Sequence[ColumnElement[bool]]
) -> list[ColumnElement[bool]]:
    conditions = list(scope)
    if options.filter:
        conditions.append(compile_filter(options.filter, entity, flavor.dialect))
    return conditions


def count_rows(
    conn: Connection, entity: EntitySet, conditions: Sequence[ColumnElement[bool]], cap: int | None
) -> int:
    base = select(entity.row_key[0]).where(*conditions)
    if cap is not None:
        base = base.limit(cap)
    return int(conn.scalar(select(func.count()).select_from(base.subquery())) or 0)


def read_page(
    conn: Connection,
    model: ServiceModel,
    entity: EntitySet,
    options: QueryOptions,
    flavor: Flavor,
    *,
    page_size: int,
    secret: str,
    scope: Sequence[ColumnElement[bool]] = (),
    carry: dict[str, Any] | None = None,
) -> Page:
    """One page of `entity` as `options` ask, and the skip token of the next one."""
    conditions = where_clause(entity, options, flavor, scope)
    shape = make_shape(entity, options.select, flavor)
    terms = _order_terms(entity, options)
    order_at = [shape.add(t.column) for t in terms]
    expansions = [_Expansion.plan(model, entity, item, shape, flavor) for item in options.expand]
    remaining = options.top
    fingerprint = options.fingerprint()
    carried: dict[str, Any] = dict(carry or {})
    query: Select[Any] = select(*shape.labelled()).where(*conditions)
    if options.skiptoken:
        state = tokens.verify(secret, SKIP_PURPOSE, options.skiptoken, "$skiptoken")
        if state.get("q") != fingerprint or len(state.get("k", [])) != len(terms):
            raise bad_request("The $skiptoken does not belong to this query.")
        query = query.where(_after(terms, state["k"]))
        remaining = state.get("t")
        carried = state.get("x") or {}
    elif options.skip:
        query = query.offset(options.skip)
    limit = page_size if remaining is None else min(page_size, remaining)
    rows = conn.execute(query.order_by(*_order_by(terms)).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    if remaining is not None:
        remaining -= len(rows)
        more = more and remaining > 0
    shape_row = shaper(shape, flavor)
    out = [shape_row(r) for r in rows]
    for expansion in expansions:
        expansion.attach(conn, rows, out)
    token = None
    if more and rows:
        last = [rows[-1][i] for i in order_at]
        payload = {"k": last, "q": fingerprint, "t": remaining, "x": carried}
        token = tokens.sign(secret, SKIP_PURPOSE, payload)
    count = count_rows(conn, entity, conditions, flavor.count_cap) if options.count else None
    return Page(out, token, count, carried)


def read_one(
    conn: Connection,
    model: ServiceModel,
    entity: EntitySet,
    key: dict[str, Any],
    options: QueryOptions,
    flavor: Flavor,
    scope: Sequence[ColumnElement[bool]] = (),
) -> Row | None:
    """The row with `key` (column → value), shaped as `options` ask, or None."""
    shape = make_shape(entity, options.select, flavor)
    expansions = [_Expansion.plan(model, entity, item, shape, flavor) for item in options.expand]
    where = [entity.table.c[c] == v for c, v in key.items()]
    rows = conn.execute(select(*shape.labelled()).where(*where, *scope).limit(2)).all()
    if not rows:
        return None
    if len(rows) > 1:
        raise ODataError(
            400, "The key matches more than one record: give every part of the alternate key."
        )
    out = [shaper(shape, flavor)(rows[0])]
    for expansion in expansions:
        expansion.attach(conn, rows, out)
    return out[0]


@dataclass
class _Expansion:
    name: str
    target: EntitySet
    local_at: list[int]
    remote: list[Column[Any]]
    shape: Shape
    flavor: Flavor

    @classmethod
    def plan(
        cls, model: ServiceModel, entity: EntitySet, item: Any, parent: Shape, flavor: Flavor
    ) -> _Expansion:
        nav = entity.navigations.get(item.navigation)
        if nav is None:
            raise unknown_property(item.navigation, entity.qualified_type)
        target = model.sets[nav.target]
        local_at = [parent.add(entity.table.c[local]) for local, _ in nav.pairs]
        shape = make_shape(target, item.select, flavor)
        remote = [target.table.c[r] for _, r in nav.pairs]
        for column in remote:
            shape.add(column)
        return cls(nav.name, target, local_at, remote, shape, flavor)

    def attach(self, conn: Connection, rows: Sequence[Any], out: list[Row]) -> None:
        wanted = {tuple(r[i] for i in self.local_at) for r in rows}
        wanted.discard(tuple(None for _ in self.local_at))
        found: dict[tuple[Any, ...], Row] = {}
        if wanted:
            keys = sorted(wanted, key=repr)
            width = len(self.remote)
            shape_row = shaper(self.shape, self.flavor)
            for start in range(0, len(keys), 500):
                part = keys[start : start + 500]
                where = (
                    self.remote[0].in_([k[0] for k in part])
                    if width == 1
                    else tuple_(*self.remote).in_(part)
                )
                for row in conn.execute(select(*self.shape.labelled()).where(where)):
                    found[tuple(row[len(row) - width :])] = shape_row(row)
        for source, target in zip(rows, out, strict=True):
            target[self.name] = found.get(tuple(source[i] for i in self.local_at))
