"""Transform → resolve → apply: one record of a table map written into the other side.

Used by live sync, initial sync and retries alike. Every record is applied under its own
savepoint, so a bad record goes to the error log without blocking the others.
"""

from __future__ import annotations

import functools
import operator
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    Connection,
    Table,
    and_,
    bindparam,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.exc import DBAPIError

from dualwrite.engine.bulk import bulk_insert, copy_rows, streams
from dualwrite.engine.plan import Plan, plan_for, string_limits
from dualwrite.maps.model import Lookup, TableMap
from dualwrite.stores import dataverse as dv_schema
from dualwrite.stores import fo as fo_schema

Direction = Literal["fo_to_dv", "dv_to_fo"]
Row = dict[str, Any]


class RecordError(Exception):
    """A record that cannot be applied; its message is the reason users see."""


def new_guid() -> str:
    """A random (version 4) GUID in canonical lowercase form, as str(uuid.uuid4()) gives, for a
    fraction of its cost: the bytes come from one os.urandom call per 4 KiB of GUIDs."""
    h = _random_hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[int(h[16], 16) & 3]}{h[17:20]}-{h[20:32]}"


_VARIANT = "89ab"
_pool: list[str] = []
os.register_at_fork(after_in_child=_pool.clear)  # a forked child must not repeat the parent's


def _random_hex() -> str:
    if not _pool:
        raw = os.urandom(16 * 256).hex()
        _pool.extend(raw[i : i + 32] for i in range(0, len(raw), 32))
    return _pool.pop()


@dataclass(frozen=True)
class Outcome:
    applied: int = 0
    skipped: int = 0
    failed: list[tuple[Row, Row | None, str]] = field(default_factory=list)  # key, row, reason


def source_table(tmap: TableMap, direction: Direction) -> Table:
    return (
        fo_schema.metadata.tables[tmap.fo]
        if direction == "fo_to_dv"
        else dv_schema.metadata.tables[tmap.dv]
    )


def target_table(tmap: TableMap, direction: Direction) -> Table:
    return (
        dv_schema.metadata.tables[tmap.dv]
        if direction == "fo_to_dv"
        else fo_schema.metadata.tables[tmap.fo]
    )


@dataclass
class Resolver:
    """Lookups between the sides, e.g. F&O customer group '10' in USMF ↔ its Dataverse GUID.

    F&O → Dataverse reads the target (where the referenced record's GUID lives); Dataverse → F&O
    reads the source (where the GUID points). Results are cached for the resolver's lifetime."""

    maps: dict[str, TableMap]
    dv_conn: Connection
    _cache: dict[tuple[Any, ...], Any] = field(default_factory=dict)

    def _referenced(self, lookup: Lookup) -> TableMap:
        ref = self.maps.get(lookup.map)
        if ref is None or len(ref.key) != 1:
            raise RecordError(f"lookup map '{lookup.map}' is not published or has a compound key")
        return ref

    def to_guid(self, lookup: Lookup, value: Any, company_guid: str | None) -> str | None:
        if value is None:
            return None
        ref = self._referenced(lookup)
        cache_key = ("g", lookup.map, value, company_guid if ref.company else None)
        found = self._cache.get(cache_key)
        if found is None:
            table = dv_schema.metadata.tables[ref.dv]
            conditions = [table.c[ref.key[0][1]] == value]
            if ref.company:
                conditions.append(table.c[ref.company.dv] == company_guid)
            pk = table.primary_key.columns.values()[0]
            found = self.dv_conn.scalar(select(pk).where(and_(*conditions)))
            if found is None:  # not cached: the record may be synced a moment later
                raise RecordError(
                    f"missing lookup: no {ref.dv} for '{value}' ({lookup.map}); sync that map first"
                )
            found = self._cache[cache_key] = str(found)
        return str(found)

    def prefetch(self, lookup: Lookup, values: set[Any], company_guid: str | None) -> None:
        """`to_guid` for many values of one lookup in one query. Values not found stay
        unresolved, so `to_guid` still reports them."""
        values.discard(None)
        ref = self.maps.get(lookup.map)
        if not values or ref is None or len(ref.key) != 1:
            return
        table = dv_schema.metadata.tables[ref.dv]
        column = table.c[ref.key[0][1]]
        pk = table.primary_key.columns.values()[0]
        conditions: list[ColumnElement[bool]] = [column.in_(values)]
        if ref.company:
            conditions.append(table.c[ref.company.dv] == company_guid)
        scope = company_guid if ref.company else None
        for value, guid in self.dv_conn.execute(select(column, pk).where(and_(*conditions))):
            if value in values:
                self._cache.setdefault(("g", lookup.map, value, scope), str(guid))

    def prefetch_values(self, lookup: Lookup, guids: set[Any]) -> None:
        """`from_guid` for many GUIDs of one lookup in one query."""
        guids.discard(None)
        ref = self.maps.get(lookup.map)
        if not guids or ref is None or len(ref.key) != 1:
            return
        table = dv_schema.metadata.tables[ref.dv]
        pk = table.primary_key.columns.values()[0]
        query = select(pk, table.c[ref.key[0][1]]).where(pk.in_(guids))
        for guid, value in self.dv_conn.execute(query):
            if guid in guids and value is not None:
                self._cache.setdefault(("v", lookup.map, guid), value)

    def from_guid(self, lookup: Lookup, guid: Any) -> Any:
        if guid is None:
            return None
        ref = self._referenced(lookup)
        cache_key = ("v", lookup.map, guid)
        if cache_key not in self._cache:
            table = dv_schema.metadata.tables[ref.dv]
            pk = table.primary_key.columns.values()[0]
            found = self.dv_conn.scalar(select(table.c[ref.key[0][1]]).where(pk == guid))
            if found is None:
                raise RecordError(f"missing lookup: {lookup.dv} {guid} does not exist in {ref.dv}")
            self._cache[cache_key] = found
        return self._cache[cache_key]


@dataclass
class Applier:
    """Applies source records of one map and direction inside the caller's target transaction."""

    tmap: TableMap
    direction: Direction
    resolver: Resolver
    legal_entities: frozenset[str]
    # (target column, source value, company GUID) -> resolved GUID, for this applier's batch
    _guids: dict[tuple[str, Any, str | None], str | None] = field(default_factory=dict)

    @property
    def source_side(self) -> Literal["fo", "dataverse"]:
        return "fo" if self.direction == "fo_to_dv" else "dataverse"

    # --- keys and companies -------------------------------------------------------------------

    def company_of(self, source_row: Row) -> str | None:
        """The legal entity (dataAreaId) a source record belongs to, None for global tables."""
        tmap = self.tmap
        if tmap.company is None:
            if tmap.fo == fo_schema.legalentities.name:
                column = tmap.key[0][0] if self.direction == "fo_to_dv" else tmap.key[0][1]
                return str(source_row.get(column))
            return None
        if self.direction == "fo_to_dv":
            value = source_row.get(tmap.company.fo)
            return None if value is None else str(value)
        code = self.resolver.from_guid(tmap.company, source_row.get(tmap.company.dv))
        return None if code is None else str(code)

    def in_scope(self, source_row: Row) -> bool:
        company = self.company_of(source_row)
        return company is None or company in self.legal_entities

    def target_key(self, source_key: Row) -> Row:
        """The target's integration-key values for a source record's key values."""
        tmap = self.tmap
        if self.direction == "fo_to_dv":
            out = {dv: source_key.get(fo) for fo, dv in tmap.key}
            if tmap.company:
                out[tmap.company.dv] = self.resolver.to_guid(
                    tmap.company, source_key.get(tmap.company.fo), None
                )
        else:
            out = {fo: source_key.get(dv) for fo, dv in tmap.key}
            if tmap.company:
                out[tmap.company.fo] = self.resolver.from_guid(
                    tmap.company, source_key.get(tmap.company.dv)
                )
        return out

    # --- values -----------------------------------------------------------------------------------

    @functools.cached_property
    def plan(self) -> Plan:
        return plan_for(self.tmap, self.direction)

    def matches(self, source_row: Row) -> bool:
        """The record passes the map's filters and belongs to a synced legal entity."""
        return self.plan.matches(source_row) and self.in_scope(source_row)

    def target_values(self, source_row: Row) -> Row:
        plan, resolver = self.plan, self.resolver
        values = plan.values(source_row)
        if self.direction == "fo_to_dv":
            company = plan.company
            company_guid = None
            if company is not None:
                code = source_row.get(company.source)
                company_guid = self._guids.get((company.target, code, None))
                if company_guid is None:
                    company_guid = resolver.to_guid(company.lookup, code, None)
                    self._guids[(company.target, code, None)] = company_guid
            for lp in plan.lookups:
                if lp.is_company:
                    values[lp.target] = company_guid
                    continue
                value = source_row.get(lp.source)
                seen = self._guids.get((lp.target, value, company_guid))
                if seen is None:
                    seen = resolver.to_guid(lp.lookup, value, company_guid)
                    self._guids[(lp.target, value, company_guid)] = seen
                values[lp.target] = seen
        else:
            for lp in plan.lookups:
                values[lp.target] = resolver.from_guid(lp.lookup, source_row.get(lp.source))
        self._check_lengths(values)
        return values

    @functools.cached_property
    def _limits(self) -> tuple[tuple[str, int], ...]:
        return string_limits(target_table(self.tmap, self.direction), self.plan.columns)

    def _check_lengths(self, values: Row) -> None:
        # SQLite does not enforce VARCHAR lengths: check here so every backend behaves alike.
        for name, limit in self._limits:
            value = values[name]
            if isinstance(value, str) and len(value) > limit:
                raise RecordError(
                    f"value too long for {target_table(self.tmap, self.direction).name}.{name}: "
                    f"{len(value)} characters, at most {limit}"
                )

    # --- writing --------------------------------------------------------------------------------

    def _find(self, conn: Connection, key: Row) -> Row | None:
        table = target_table(self.tmap, self.direction)
        if any(v is None for v in key.values()):
            return None
        query = select(table).where(and_(*(table.c[k] == v for k, v in key.items())))
        row = conn.execute(query).mappings().first()
        return dict(row) if row else None

    def current_target(self, conn: Connection, key: Row) -> Row | None:
        """The target record for an integration key, as it is now."""
        return self._find(conn, key)

    def upsert(self, conn: Connection, values: Row, old_key: Row | None = None) -> None:
        table = target_table(self.tmap, self.direction)
        key_columns = self.tmap.dv_key if self.direction == "fo_to_dv" else self.tmap.fo_key
        key = {k: values[k] for k in key_columns}
        existing = self._find(conn, key) or (self._find(conn, old_key) if old_key else None)
        now = datetime.now(UTC)
        stamp = "modifiedon" if self.direction == "fo_to_dv" else "modifieddatetime"
        if existing is None:
            conn.execute(insert(table).values(self._new_row(table, values)))
            return
        changed = {k: v for k, v in values.items() if existing.get(k) != v}
        if not changed:
            return
        pk = table.primary_key.columns.values()[0]
        changed[stamp] = now
        conn.execute(update(table).where(pk == existing[pk.name]).values(changed))

    def delete(self, conn: Connection, key: Row) -> None:
        table = target_table(self.tmap, self.direction)
        if any(v is None for v in key.values()):
            return
        conn.execute(delete(table).where(and_(*(table.c[k] == v for k, v in key.items()))))

    def apply(
        self, conn: Connection, op: str, key: Row, row: Row | None, old_key: Row | None
    ) -> bool:
        """Apply one source change; False when it is out of the map's scope (filters, company)."""
        if op == "D" or row is None:
            if op != "D":
                return False  # gone since: its delete follows in the log
            self.delete(conn, self.target_key(key))
            return True
        if not self.matches(row):
            return False
        values = self.target_values(row)
        previous = self.target_key(old_key) if old_key and old_key != key else None
        self.upsert(conn, values, previous)
        return True

    def writes(self, op: str, row: Row | None) -> bool:
        """Whether `apply` writes this change: a delete, or a record in the map's scope."""
        return op == "D" or (row is not None and self.matches(row))

    def apply_all(self, conn: Connection, records: list[tuple[Row, Row | None]]) -> int:
        """Live sync of many upserts at once: (source key, current source row) of distinct
        records whose integration key did not change. One query finds the targets, inserts go
        in one bulk write, updates in one executemany per set of changed columns. The outcome is
        that of `apply` for each record in turn; whatever this cannot promise (two records on one
        target key, a record the database refuses) raises, and the caller goes record by record.
        Returns how many records were in the map's scope (written, or already as they should be).
        """
        rows = [row for _key, row in records if row is not None]
        if self.direction == "fo_to_dv":  # scope needs no lookup: resolve only what is in it
            rows = [row for row in rows if self.matches(row)]
            self._resolve_ahead(rows)
        else:  # the company of a Dataverse record is itself a lookup
            self._resolve_ahead(rows)
            rows = [row for row in rows if self.matches(row)]
        prepared = [self.target_values(row) for row in rows]
        if not prepared:
            return 0
        table = target_table(self.tmap, self.direction)
        key_columns = self.tmap.dv_key if self.direction == "fo_to_dv" else self.tmap.fo_key
        keys = [tuple(v[c] for c in key_columns) for v in prepared]
        if len(set(keys)) != len(keys):
            raise RecordError("two records of the batch share one target key")
        existing = self._existing_rows(conn, table, key_columns, keys)
        pk = table.primary_key.columns.values()[0]
        stamp = "modifiedon" if self.direction == "fo_to_dv" else "modifieddatetime"
        now = datetime.now(UTC)
        fresh: list[Row] = []
        updates: dict[tuple[str, ...], list[Row]] = {}
        for key, values in zip(keys, prepared, strict=True):
            found = existing.get(key)
            if found is None:
                fresh.append(values)
                continue
            changed = {k: v for k, v in values.items() if found.get(k) != v}
            if not changed:
                continue
            changed[stamp] = now
            params = {f"v_{k}": v for k, v in changed.items()}
            params["v_pk"] = found[pk.name]
            updates.setdefault(tuple(changed), []).append(params)
        if fresh:
            self._insert_new(conn, table, fresh)
        for columns, params_list in updates.items():
            statement = (
                update(table)
                .where(pk == bindparam("v_pk"))
                .values({c: bindparam(f"v_{c}") for c in columns})
            )
            conn.execute(statement, params_list)
        return len(prepared)

    def _resolve_ahead(self, rows: list[Row]) -> None:
        """Fill the resolver's cache with one query per lookup for all of `rows`."""
        plan, resolver = self.plan, self.resolver
        if self.direction == "dv_to_fo":
            for lp in plan.lookups:
                resolver.prefetch_values(lp.lookup, {row.get(lp.source) for row in rows})
            return
        company = plan.company
        companies: dict[Any, str | None] = {}
        if company is not None:
            codes = {row.get(company.source) for row in rows}
            resolver.prefetch(company.lookup, set(codes), None)
            for code in codes:
                try:
                    companies[code] = resolver.to_guid(company.lookup, code, None)
                except RecordError:
                    companies[code] = None
        wanted: dict[tuple[int, str | None], set[Any]] = {}
        for row in rows:
            company_guid = companies.get(row.get(company.source)) if company else None
            for i, lp in enumerate(plan.lookups):
                if not lp.is_company:
                    wanted.setdefault((i, company_guid), set()).add(row.get(lp.source))
        for (i, company_guid), values in wanted.items():
            resolver.prefetch(plan.lookups[i].lookup, values, company_guid)

    @staticmethod
    def _existing_rows(
        conn: Connection, table: Table, columns: tuple[str, ...], keys: list[tuple[Any, ...]]
    ) -> dict[tuple[Any, ...], Row]:
        cols = [table.c[c] for c in columns]
        wanted = {k for k in keys if all(v is not None for v in k)}
        found: dict[tuple[Any, ...], Row] = {}
        part = list(wanted)
        for start in range(0, len(part), 1000):
            chunk = part[start : start + 1000]
            where = and_(*(col.in_({k[i] for k in chunk}) for i, col in enumerate(cols)))
            for row in conn.execute(select(table).where(where)).mappings():
                key = tuple(row[c] for c in columns)
                if key in wanted:
                    found[key] = dict(row)
        return found

    def apply_many(
        self, conn: Connection, rows: list[Row], assume_new: bool = False
    ) -> list[tuple[Row, str]]:
        """Initial sync of a batch: transform all, find existing targets in one query, insert the
        new ones in one bulk write, update the rest. A failing write falls back to
        record-by-record, so one bad record never sinks its batch. Returns (row, reason) failures.

        `assume_new`: the caller knows the target held none of these keys when the sync began
        and a unique constraint guards them, so the look-up is skipped; a record written there
        meanwhile makes the bulk write fail and the batch goes record by record (upserts)."""
        # Lookups must not share the connection: it is busy with the copy until the batch ends.
        if assume_new and streams(conn) and self.resolver.dv_conn is not conn:
            try:
                return self._stream_new(conn, rows)
            except DBAPIError:
                pass  # some record broke the copy: find it below, record by record
            assume_new = False
        failures: list[tuple[Row, str]] = []
        prepared: list[tuple[Row, Row]] = []
        for row in rows:
            if not self.matches(row):
                continue
            try:
                prepared.append((row, self.target_values(row)))
            except RecordError as exc:
                failures.append((row, str(exc)))
        table = target_table(self.tmap, self.direction)
        key_columns = self.tmap.dv_key if self.direction == "fo_to_dv" else self.tmap.fo_key
        if assume_new:
            fresh, known = prepared, []
        else:
            existing = self._existing_keys(conn, table, key_columns, [v for _, v in prepared])
            fresh = [
                (r, v) for r, v in prepared if tuple(v[c] for c in key_columns) not in existing
            ]
            known = [(r, v) for r, v in prepared if tuple(v[c] for c in key_columns) in existing]
        if fresh:
            try:
                with conn.begin_nested():
                    self._insert_new(conn, table, [v for _, v in fresh])
            except DBAPIError:
                known = fresh + known  # record by record finds the culprit(s)
        for row, _values in known:
            reason = self.apply_safely(conn, "I", row, row, None)
            if reason is not None:
                failures.append((row, reason))
        return failures

    def _stream_new(self, conn: Connection, rows: list[Row]) -> list[tuple[Row, str]]:
        """All records new: each is sent to the database as soon as it is transformed, so the
        server stores one while the next is prepared. Raises DBAPIError when the write fails
        (nothing of the batch is kept then)."""
        table = target_table(self.tmap, self.direction)
        columns, stamp = self._new_columns(table)
        failures: list[tuple[Row, str]] = []
        with conn.begin_nested(), copy_rows(conn, table, columns) as write:
            for row in rows:
                if not self.matches(row):
                    continue
                try:
                    values = self.target_values(row)
                except RecordError as exc:
                    failures.append((row, str(exc)))
                    continue
                write(stamp(values))
        return failures

    def _new_columns(
        self, table: Table
    ) -> tuple[tuple[str, ...], Callable[[Row], tuple[Any, ...]]]:
        """The columns of a new target record and a function turning values into that tuple,
        stamped like `_new_row` (one moment for the batch)."""
        columns = self.plan.columns
        pick = operator.itemgetter(*columns) if len(columns) > 1 else lambda v: (v[columns[0]],)
        now = datetime.now(UTC)
        if self.direction == "fo_to_dv":
            extra: tuple[str, ...] = (f"{table.name}id", "createdon", "modifiedon")
            return (*columns, *extra), lambda v: (*pick(v), new_guid(), now, now)
        return (*columns, "modifieddatetime"), lambda v: (*pick(v), now)

    def _insert_new(self, conn: Connection, table: Table, values: list[Row]) -> None:
        columns, stamp = self._new_columns(table)
        bulk_insert(conn, table, columns, [stamp(v) for v in values])

    @staticmethod
    def _existing_keys(
        conn: Connection, table: Table, columns: tuple[str, ...], values: list[Row]
    ) -> set[tuple[Any, ...]]:
        wanted = {tuple(v[c] for c in columns) for v in values}
        if not wanted:
            return set()
        cols = [table.c[c] for c in columns]
        found: set[tuple[Any, ...]] = set()
        keys = list(wanted)
        for start in range(0, len(keys), 1000):
            part = keys[start : start + 1000]
            # One IN list per column (indexes serve these; row-value IN lists often scan), then
            # keep only the exact tuples.
            where = and_(*(col.in_({k[i] for k in part}) for i, col in enumerate(cols)))
            chunk = set(part)
            found.update(
                t for r in conn.execute(select(*cols).where(where)) if (t := tuple(r)) in chunk
            )
        return found

    def _new_row(self, table: Table, values: Row) -> Row:
        row = dict(values)
        now = datetime.now(UTC)
        if self.direction == "fo_to_dv":
            row[f"{table.name}id"] = str(uuid.uuid4())
            row["createdon"] = row["modifiedon"] = now
        else:
            row["modifieddatetime"] = now
        return row

    def apply_safely(
        self, conn: Connection, op: str, key: Row, row: Row | None, old_key: Row | None
    ) -> str | None:
        """Apply under a savepoint; return the reason when the record failed."""
        try:
            with conn.begin_nested():
                self.apply(conn, op, key, row, old_key)
        except RecordError as exc:
            return str(exc)
        except DBAPIError as exc:
            first = str(exc.orig if exc.orig is not None else exc).strip().splitlines()
            return first[0] if first else type(exc).__name__
        return None
