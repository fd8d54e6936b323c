"""Transform → resolve → apply: one record of a table map written into the other side.

Used by live sync, initial sync and retries alike. Every record is applied under its own
savepoint, so a bad record goes to the error log without blocking the others.
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import Connection, Table, and_, delete, insert, select, update
from sqlalchemy.exc import DBAPIError

from dualwrite.maps.model import Lookup, TableMap
from dualwrite.maps.transforms import matches_filters, to_dataverse, to_fo
from dualwrite.stores import dataverse as dv_schema
from dualwrite.stores import fo as fo_schema

Direction = Literal["fo_to_dv", "dv_to_fo"]
Row = dict[str, Any]


@functools.cache
def _string_limits(table: Table) -> dict[str, int]:
    """Column name -> maximum length, for the table's bounded string columns."""
    lengths = {c.name: getattr(c.type, "length", None) for c in table.columns}
    return {name: int(length) for name, length in lengths.items() if length}


class RecordError(Exception):
    """A record that cannot be applied; its message is the reason users see."""


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
        if cache_key not in self._cache:
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
            self._cache[cache_key] = found
        return str(self._cache[cache_key])

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

    def target_values(self, source_row: Row) -> Row:
        tmap = self.tmap
        if self.direction == "fo_to_dv":
            values, needs = to_dataverse(tmap, source_row)
            company_guid = (
                self.resolver.to_guid(tmap.company, source_row.get(tmap.company.fo), None)
                if tmap.company
                else None
            )
            for need in needs:
                values[need.lookup.dv] = (
                    company_guid
                    if need.lookup is tmap.company
                    else self.resolver.to_guid(need.lookup, need.value, company_guid)
                )
        else:
            values, needs = to_fo(tmap, source_row)
            for need in needs:
                values[need.lookup.fo] = self.resolver.from_guid(need.lookup, need.value)
        self._check_lengths(values)
        return values

    def _check_lengths(self, values: Row) -> None:
        # SQLite does not enforce VARCHAR lengths: check here so every backend behaves alike.
        table = target_table(self.tmap, self.direction)
        for name, limit in _string_limits(table).items():
            value = values.get(name)
            if isinstance(value, str) and len(value) > limit:
                raise RecordError(
                    f"value too long for {table.name}.{name}: {len(value)} characters, "
                    f"at most {limit}"
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
        if not matches_filters(self.tmap, self.source_side, row) or not self.in_scope(row):
            return False
        values = self.target_values(row)
        previous = self.target_key(old_key) if old_key and old_key != key else None
        self.upsert(conn, values, previous)
        return True

    def apply_many(self, conn: Connection, rows: list[Row]) -> list[tuple[Row, str]]:
        """Initial sync of a batch: transform all, find existing targets in one query, insert the
        new ones with one multi-row statement, update the rest. A failing statement falls back to
        record-by-record, so one bad record never sinks its batch. Returns (row, reason) failures.
        """
        failures: list[tuple[Row, str]] = []
        prepared: list[tuple[Row, Row]] = []
        for row in rows:
            if not matches_filters(self.tmap, self.source_side, row) or not self.in_scope(row):
                continue
            try:
                prepared.append((row, self.target_values(row)))
            except RecordError as exc:
                failures.append((row, str(exc)))
        table = target_table(self.tmap, self.direction)
        key_columns = self.tmap.dv_key if self.direction == "fo_to_dv" else self.tmap.fo_key
        existing = self._existing_keys(conn, table, key_columns, [v for _, v in prepared])
        fresh = [(r, v) for r, v in prepared if tuple(v[c] for c in key_columns) not in existing]
        known = [(r, v) for r, v in prepared if tuple(v[c] for c in key_columns) in existing]
        if fresh:
            try:
                with conn.begin_nested():
                    conn.execute(insert(table), [self._new_row(table, v) for _, v in fresh])
            except DBAPIError:
                known = fresh + known  # record by record finds the culprit(s)
        for row, _values in known:
            reason = self.apply_safely(conn, "I", row, row, None)
            if reason is not None:
                failures.append((row, reason))
        return failures

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
