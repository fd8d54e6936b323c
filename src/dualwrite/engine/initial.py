"""Initial sync: the master side's records copied to the other side in key order and bounded
batches, the live position taken first so writes made meanwhile are caught up."""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any

from sqlalchemy import (
    Connection,
    PrimaryKeyConstraint,
    UniqueConstraint,
    func,
    literal,
    select,
    tuple_,
)

from dualwrite.databases import translate_errors
from dualwrite.engine.apply import Direction, source_table, target_table
from dualwrite.engine.bulk import streams_to
from dualwrite.engine.capture.reader import current_rows, normalize_rows
from dualwrite.engine.cursors import Cursor
from dualwrite.engine.linkcore import LinkCore, Master, Progress, directions, refers_to_itself
from dualwrite.engine.plan import source_columns
from dualwrite.engine.syncstate import record_error, set_position
from dualwrite.maps.model import TableMap


class InitialSync(LinkCore):
    def initial_sync(self, tmap: TableMap, master: Master, progress: Progress | None = None) -> int:
        """Copy the master side's records to the other side in key order and bounded batches;
        returns how many were written (`last_initial_sync`: read, written, failed).

        The master's change-log head is taken first and becomes the live position afterwards,
        so writes made during the copy are caught up by live sync."""
        self.prepare(tmap)
        direction: Direction = "fo_to_dv" if master == "fo" else "dv_to_fo"
        starts = {d: self.head(d) for d in directions(tmap)}
        source = source_table(tmap, direction)
        total = self._count(direction, source)
        assume_new = self._starts_empty(tmap, direction)
        with ExitStack() as stack:
            # A second Dataverse connection for lookups lets PostgreSQL and SQLite targets stream
            # each batch (COPY, a writer thread) while it is transformed. It sees what earlier
            # batches and maps committed, which is all a lookup into another map needs; a map
            # that looks up its own records keeps reading them in the batch's transaction.
            separate = direction == "fo_to_dv" and not refers_to_itself(tmap)
            lookups = (
                stack.enter_context(self.dv.connect())
                if separate and assume_new and streams_to(self.dv)
                else None
            )
            done, failed = self._copy_all(tmap, direction, assume_new, lookups, total, progress)
        self.last_initial_sync = (done, done - failed, failed)
        for live_direction, start in starts.items():
            engine = self.target(live_direction)
            with translate_errors(engine.url), engine.begin() as conn:
                set_position(conn, tmap.name, live_direction, start)
            self._cursors[(tmap.name, live_direction)] = Cursor(start)
        return done - failed

    def _copy_all(
        self,
        tmap: TableMap,
        direction: Direction,
        assume_new: bool,
        lookups: Connection | None,
        total: int,
        progress: Progress | None,
    ) -> tuple[int, int]:
        source = source_table(tmap, direction)
        pk = list(source.primary_key.columns)
        # Only what the map reads: unmapped columns cost reading and converting for nothing.
        # The error log keeps whole records; those few are read again (`_whole`).
        keys = [c.name for c in pk]
        read = [*pk, *(source.c[n] for n in source_columns(tmap, direction) if n not in keys)]
        done = failed = 0
        after: tuple[Any, ...] | None = None
        while True:
            with (
                translate_errors(self.source(direction).url),
                self.source(direction).connect() as sconn,
            ):
                query = select(*read).order_by(*pk).limit(self.initial_batch_rows)
                if after is not None:
                    query = query.where(tuple_(*pk) > after if len(pk) > 1 else pk[0] > after[0])
                rows = normalize_rows(source, sconn.execute(query))
            if not rows:
                break
            with self._applier(tmap, direction, lookups) as (conn, applier):
                failures = applier.apply_many(conn, rows, assume_new)
                whole = self._whole(direction, source, [row for row, _ in failures])
                for row, reason in failures:
                    failed += 1
                    key = {c.name: row[c.name] for c in pk}
                    payload = whole.get(tuple(key.values()), row)
                    record_error(conn, tmap.name, direction, source.name, key, payload, reason)
            if lookups is not None:
                # End its read transaction: an open SQLite snapshot would keep the target's
                # WAL from being checkpointed for the whole copy.
                lookups.rollback()
            after = tuple(rows[-1][c.name] for c in pk)
            done += len(rows)
            if progress:
                progress(tmap.name, done, total)
        return done, failed

    def _whole(
        self, direction: Direction, source: Any, rows: list[dict[str, Any]]
    ) -> dict[tuple[Any, ...], dict[str, Any]]:
        """The complete source records behind `rows` (read in part), by primary key."""
        if not rows:
            return {}
        engine = self.source(direction)
        with translate_errors(engine.url), engine.connect() as conn:
            return current_rows(conn, source, rows)

    def _starts_empty(self, tmap: TableMap, direction: Direction) -> bool:
        """True when the target table is empty and a unique constraint covers the map's key:
        then every record copied is new, unless written meanwhile, which the constraint catches."""
        table = target_table(tmap, direction)
        key = set(tmap.dv_key if direction == "fo_to_dv" else tmap.fo_key)
        guarded = any(
            isinstance(c, UniqueConstraint | PrimaryKeyConstraint)
            and c.columns
            and {col.name for col in c.columns} <= key
            for c in table.constraints
        )
        if not guarded:
            return False
        engine = self.target(direction)
        with translate_errors(engine.url), engine.connect() as conn:
            return conn.scalar(select(literal(1)).select_from(table).limit(1)) is None

    def _count(self, direction: Direction, table: Any) -> int:
        engine = self.source(direction)
        with engine.connect() as conn:
            return int(conn.scalar(select(func.count()).select_from(table)) or 0)
