"""Reading the change log in commit order, and decoding row images into typed values.

Positions come from an auto-increment, assigned when a row is inserted, not when its
transaction commits. On PostgreSQL and MariaDB a reader can therefore see position 11 while 10
is still in flight; moving the cursor past 10 would lose it forever. The reader stops at the first
gap and skips it only once it is certain no transaction can still fill it:

- PostgreSQL: when the gap is seen, note the snapshot's xmax (every transaction that allocated a
  missing position has a smaller id); once the oldest running transaction (xmin) has passed it,
  whatever is still missing was rolled back.
- MariaDB: note the database clock when the gap is seen; once no writing InnoDB transaction that
  started by then is left, the gap is permanent. InnoDB refreshes its transaction list at most
  every 100 ms, so the list is trusted only from 250 ms after that moment on.
- SQLite has one writer at a time and reuses rolled-back ids, so positions are commit order.

Changes of one record are serialized by the record's lock, and the trigger allocates the position
after taking it, so position order is commit order for any one record.

The log holds only key columns; a change carries the record as it is when read (or None once it
is gone). Applying the current state in position order converges to the source, and several
changes of one record collapse into one write.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    Connection,
    DateTime,
    Engine,
    Integer,
    Numeric,
    Table,
    select,
    text,
    tuple_,
)

from dualwrite.databases import translate_errors
from dualwrite.engine.capture.schema import changelog

Row = dict[str, Any]


@dataclass(frozen=True)
class Change:
    position: int
    table: str
    op: str  # I, U, D
    key: Row  # key columns of the record (after the change; for deletes, before it)
    old_key: Row | None  # key columns before the change (U, D)
    row: Row | None  # the record as it is now; None when it no longer exists
    captured_at: datetime


def _value(column_type: Any, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(column_type, Boolean):
        return bool(value) if not isinstance(value, str) else value.lower() in ("1", "true", "t")
    if isinstance(column_type, Numeric) and not isinstance(column_type, Integer):
        return Decimal(str(value))
    if isinstance(column_type, Integer):
        return int(value)
    if isinstance(column_type, DateTime):
        moment = datetime.fromisoformat(str(value))
        # Stored in UTC everywhere; SQLite and MariaDB hand it back without the zone.
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return value


def normalize_moment(value: Any) -> datetime:
    """A capture time from any backend as an aware UTC datetime."""
    return _value(changelog.c.captured_at.type, value)  # type: ignore[no-any-return]


def decode_row(table: Table, image: str | None) -> Row | None:
    """A JSON image from any dialect's trigger → the same typed Python values."""
    if image is None:
        return None
    raw = json.loads(image, parse_float=Decimal)
    return {name: _value(table.c[name].type, value) for name, value in raw.items()}


def current_rows(conn: Connection, table: Table, keys: Sequence[Row]) -> dict[tuple[Any, ...], Row]:
    """The records behind `keys` as they are now, by primary key."""
    pk = list(table.primary_key.columns)
    wanted = {tuple(k[c.name] for c in pk) for k in keys}
    if not wanted:
        return {}
    found: dict[tuple[Any, ...], Row] = {}
    chunk = sorted(wanted, key=repr)
    for start in range(0, len(chunk), 500):
        part = chunk[start : start + 500]
        where = pk[0].in_([k[0] for k in part]) if len(pk) == 1 else tuple_(*pk).in_(part)
        for row in conn.execute(select(table).where(where)).mappings():
            found[tuple(row[c.name] for c in pk)] = normalize_row(table, row)
    return found


@functools.cache
def _datetime_columns(table: Table) -> tuple[str, ...]:
    return tuple(c.name for c in table.columns if isinstance(c.type, DateTime))


def normalize_row(table: Table, row: Any) -> Row:
    """A row as read from any backend, with the same Python values everywhere (UTC datetimes)."""
    out = dict(row)
    for name in _datetime_columns(table):
        value = out.get(name)
        if isinstance(value, datetime) and value.tzinfo is None:
            out[name] = value.replace(tzinfo=UTC)
    return out


def normalize_rows(table: Table, result: Any) -> list[Row]:
    """`normalize_row` for every row of a result of `select(table)`, without a mapping per row."""
    names = list(result.keys())
    moments = [name for name in _datetime_columns(table) if name in names]
    rows = [dict(zip(names, r, strict=True)) for r in result]
    for name in moments:
        for row in rows:
            value = row[name]
            if isinstance(value, datetime) and value.tzinfo is None:
                row[name] = value.replace(tzinfo=UTC)
    return rows


@dataclass(frozen=True)
class Scan:
    """What one look at a change log found after position `after`: every position up to `upto`
    is known (none still in flight), and `last` holds, per table, the last of its positions in
    (after, upto]. One scan tells every map reading that log whether it has anything to do."""

    after: int
    upto: int
    last: dict[str, int]

    def idle(self, table: str, read: int) -> bool:
        """Nothing of `table` in (read, upto] for a reader at `read` (which the scan covers)."""
        return self.after <= read and self.last.get(table, read) <= read


@dataclass
class ChangeReader:
    """Reads one data store's change log for a set of tables, never skipping an in-flight write."""

    engine: Engine
    tables: Sequence[Table]
    batch: int = 1000
    _pending: dict[int, Any] = field(default_factory=dict)  # gap start -> horizon

    def read(self, after: int, conn: Connection | None = None) -> tuple[list[Change], int]:
        """Changes after position `after` (in commit order) and the new cursor; on `conn` when
        given (a connection to the reader's engine), else on a connection of its own.

        The cursor moves past positions of other tables too, so callers store it even when no
        change of theirs came back."""
        if conn is not None:
            return self._read(conn, after)
        with translate_errors(self.engine.url), self.engine.connect() as own:
            return self._read(own, after)

    def _read(self, conn: Connection, after: int) -> tuple[list[Change], int]:
        by_name = {t.name: t for t in self.tables}
        with translate_errors(self.engine.url):
            closed = {g for g, h in self._pending.items() if self._horizon_passed(conn, h)}
            # Other tables' entries come along (their images hold only keys): one round trip
            # gives both the positions to check for gaps and this reader's changes.
            logged = conn.execute(
                select(changelog)
                .where(changelog.c.position > after)
                .order_by(changelog.c.position)
                .limit(self.batch)
            ).all()
            upto = self._safe_upto(conn, after, [r.position for r in logged], closed)
            if upto == after:
                return [], after
            rows = [r for r in logged if r.position <= upto and r.table_name in by_name]
            changes = self._changes(conn, rows, by_name)
        return changes, upto

    def scan(self, after: int, conn: Connection, limit: int = 10_000) -> Scan:
        """Positions and table names only, after `after` (in commit order, gaps as in `read`)."""
        with translate_errors(self.engine.url):
            closed = {g for g, h in self._pending.items() if self._horizon_passed(conn, h)}
            logged = conn.execute(
                select(changelog.c.position, changelog.c.table_name)
                .where(changelog.c.position > after)
                .order_by(changelog.c.position)
                .limit(limit)
            ).all()
            upto = self._safe_upto(conn, after, [r.position for r in logged], closed)
        last = {r.table_name: r.position for r in logged if r.position <= upto}
        return Scan(after, upto, last)

    @staticmethod
    def _changes(conn: Connection, rows: Sequence[Any], by_name: dict[str, Table]) -> list[Change]:
        decoded = []
        wanted: dict[str, list[Row]] = {}
        for r in rows:
            table = by_name[r.table_name]
            old_key = decode_row(table, r.old_data)
            new_key = decode_row(table, r.new_data)
            key = new_key if new_key is not None else old_key
            assert key is not None  # noqa: S101 - every change has a key image
            decoded.append((r, table, key, old_key))
            if r.op != "D":
                wanted.setdefault(table.name, []).append(key)
        current = {name: current_rows(conn, by_name[name], keys) for name, keys in wanted.items()}
        changes = []
        for r, table, key, old_key in decoded:
            pk = tuple(key[c.name] for c in table.primary_key.columns)
            row = None if r.op == "D" else current[table.name].get(pk)
            captured = normalize_moment(r.captured_at)
            changes.append(Change(r.position, r.table_name, r.op, key, old_key, row, captured))
        return changes

    def _safe_upto(
        self, conn: Connection, after: int, positions: Sequence[int], closed: set[int]
    ) -> int:
        upto = after
        for position in positions:
            if position != upto + 1:
                gap = upto + 1
                if gap not in closed and conn.dialect.name != "sqlite":
                    self._pending.setdefault(gap, self._horizon(conn))
                    break
                self._pending.pop(gap, None)
            upto = position
        return upto

    @staticmethod
    def _horizon(conn: Connection) -> Any:
        if conn.dialect.name == "postgresql":
            return conn.scalar(text("SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint"))
        return conn.scalar(text("SELECT NOW(6)"))

    @staticmethod
    def _horizon_passed(conn: Connection, horizon: Any) -> bool:
        if conn.dialect.name == "postgresql":
            xmin = conn.scalar(text("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint"))
            return int(xmin or 0) >= int(horizon)
        settled = conn.scalar(
            text("SELECT NOW(6) > :t + INTERVAL 250000 MICROSECOND"), {"t": horizon}
        )
        if not settled:
            return False
        still_running = conn.scalar(
            text(
                "SELECT COUNT(*) FROM information_schema.INNODB_TRX "
                "WHERE trx_started <= :t AND trx_rows_modified > 0 "
                "AND trx_mysql_thread_id <> CONNECTION_ID()"
            ),
            {"t": horizon},
        )
        return not still_running
