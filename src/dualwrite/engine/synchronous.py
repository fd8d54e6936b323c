"""Synchronous dual-write: a write made through an environment's API commits only if its mapped
writes commit on the other side too (Microsoft's live sync), else both sides roll back and the
writer sees why.

The mapped writes go through the same transform → resolve → apply step as the asynchronous path
(`Applier`), in one target transaction per unit of work, with the engine's origin (not captured
back). Their source changes are still captured by the triggers, as every write is; the target
keeps, in the same transaction as the rows, which changes it applied (`dw_sync_applied`), and
the asynchronous path leaves exactly those out — nothing is applied or counted twice.

Commit order: the source first, then the target. If the target's commit fails after the
source's, the change is still in the source's change log without a mark, so the worker applies
it as it would any write: late, never lost. The other order could leave a row on the target
that the source never kept.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, RootTransaction, delete, insert, select, text
from sqlalchemy.exc import DataError, IntegrityError

from dualwrite.databases import translate_errors
from dualwrite.engine.apply import Applier, Direction, RecordError, Resolver, source_table
from dualwrite.engine.capture import engine_origin
from dualwrite.engine.capture.reader import Change, ChangeReader
from dualwrite.engine.capture.schema import changelog
from dualwrite.engine.syncstate import count_changes, ensure_sync_schema, sync_applied
from dualwrite.errors import ERR
from dualwrite.maps.model import TableMap

# Microsoft's limits for one synchronous transaction.
MAX_RECORDS = 1000
MAX_SECONDS = 120.0


def log_head(source: Connection) -> int:
    """The source change log's last position this transaction sees: call it before the
    unit's writes; the changes after it are the unit's own (see `_unit_changes`)."""
    return int(
        source.scalar(select(changelog.c.position).order_by(changelog.c.position.desc()).limit(1))
        or 0
    )


@dataclass
class MappedWrites:
    """The other side's transaction holding a unit of work's mapped writes, not committed yet:
    `commit` after the source committed, `rollback` when it did not."""

    applied: int = 0
    maps: tuple[str, ...] = ()
    _conn: Connection | None = None
    _trans: RootTransaction | None = field(default=None, repr=False)

    def commit(self) -> None:
        if self._trans is not None and self._conn is not None:
            try:
                self._trans.commit()
            finally:
                self._conn.close()

    def rollback(self) -> None:
        if self._trans is not None and self._conn is not None:
            try:
                self._trans.rollback()
            finally:
                self._conn.close()


def _unit_changes(
    source: Connection, since: int, tables: dict[str, Any]
) -> dict[str, list[Change]]:
    """The changes this transaction captured (after `since`), per table, with the records as
    this transaction sees them. On PostgreSQL other transactions' commits become visible
    mid-transaction, so its own entries are told apart by transaction ID."""
    query = select(changelog).where(
        changelog.c.position > since, changelog.c.table_name.in_(list(tables))
    )
    if source.dialect.name == "postgresql":
        query = query.where(changelog.c.txid == text("pg_current_xact_id()::text::bigint"))
    rows = source.execute(query.order_by(changelog.c.position)).all()
    by_table: dict[str, list[Change]] = {}
    for change in ChangeReader._changes(source, rows, tables):
        by_table.setdefault(change.table, []).append(change)
    return by_table


def _record(change: Change) -> tuple[Any, ...]:
    return tuple(sorted(change.key.items()))


def apply_mapped(
    source: Connection,
    target: Engine,
    direction: Direction,
    tmaps: Sequence[TableMap],
    all_maps: dict[str, TableMap],
    legal_entities: frozenset[str],
    since: int,
    started: float | None = None,
) -> MappedWrites:
    """Apply, in one open transaction on `target`, what `tmaps` (the maps that run
    synchronously now, in dependency order) make of the changes `source`'s transaction
    captured after `since`. Raises the catalogue's error naming the map and the reason when a
    record cannot be written; the target transaction is then rolled back."""
    started = time.monotonic() if started is None else started
    tables = {source_table(m, direction).name: source_table(m, direction) for m in tmaps}
    changes = _unit_changes(source, since, tables)
    mine = [m for m in tmaps if changes.get(source_table(m, direction).name)]
    if not mine:
        return MappedWrites()
    total = sum(len(c) for c in changes.values())
    if total > MAX_RECORDS:
        raise ERR.SYNC_TOO_MANY.error(count=total, limit=MAX_RECORDS)
    ensure_sync_schema(target)
    with translate_errors(target.url):
        conn = target.connect()
        trans = conn.begin()
    writes = MappedWrites(maps=tuple(m.name for m in mine), _conn=conn, _trans=trans)
    try:
        with translate_errors(target.url), engine_origin(conn):
            # F&O → Dataverse lookups are found in the target, Dataverse → F&O ones in the
            # source: both in the transactions that hold this unit's writes.
            resolver = Resolver(all_maps, conn if direction == "fo_to_dv" else source)
            for tmap in mine:
                if time.monotonic() - started > MAX_SECONDS:
                    raise ERR.SYNC_TIMEOUT.error(seconds=int(MAX_SECONDS), map=tmap.name)
                applier = Applier(tmap, direction, resolver, legal_entities)
                writes.applied += _apply_map(conn, applier, tmap, direction, changes)
    except BaseException:
        writes.rollback()
        raise
    return writes


def _apply_map(
    conn: Connection,
    applier: Applier,
    tmap: TableMap,
    direction: Direction,
    changes: dict[str, list[Change]],
) -> int:
    """One map's records, latest change per record; marks and counts what it wrote."""
    entries = changes[source_table(tmap, direction).name]
    latest: dict[tuple[Any, ...], Change] = {}
    for change in entries:
        latest.pop(_record(change), None)
        latest[_record(change)] = change
    written: set[tuple[Any, ...]] = set()
    for record, change in latest.items():
        try:
            if applier.apply(conn, change.op, change.key, change.row, change.old_key):
                written.add(record)
        except (RecordError, IntegrityError, DataError) as error:
            reason = str(getattr(error, "orig", None) or error).splitlines()[0]
            entity = tmap.dv if direction == "fo_to_dv" else tmap.fo
            raise ERR.SYNC_WRITE_FAILED.error(
                map=tmap.name, entity=entity, reason=reason
            ) from error
    # Every change of a record written here (also those it superseded) is this map's: the
    # asynchronous path leaves them out. Records out of the map's scope stay unmarked, so
    # that path counts them as skipped, as it counts any.
    mine = [c for c in entries if _record(c) in written]
    if mine:
        conn.execute(
            insert(sync_applied),
            [{"map_name": tmap.name, "direction": direction, "position": c.position} for c in mine],
        )
        count_changes(
            conn, tmap.name, direction, len(mine), len(written), 0, len(mine) - len(written)
        )
    return len(written)


def applied_elsewhere(
    conn: Connection, map_name: str, direction: str, after: int, upto: int
) -> set[int]:
    """Positions in (after, upto] that a synchronous write already applied for this map and
    direction; they are forgotten as the asynchronous path passes them (same transaction)."""
    c = sync_applied.c
    where = (c.map_name == map_name, c.direction == direction, c.position <= upto)
    found = {int(p) for p in conn.scalars(select(c.position).where(*where, c.position > after))}
    if found:
        conn.execute(delete(sync_applied).where(*where))
    return found
