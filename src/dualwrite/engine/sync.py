"""Running table maps between two data stores: preparation, live sync, initial sync, retries."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import (
    Connection,
    Engine,
    PrimaryKeyConstraint,
    UniqueConstraint,
    and_,
    delete,
    func,
    insert,
    literal,
    select,
    tuple_,
    update,
)
from sqlalchemy.exc import DBAPIError

from dualwrite.databases import make_engine, translate_errors
from dualwrite.engine.apply import (
    Applier,
    Direction,
    RecordError,
    Resolver,
    source_table,
    target_table,
)
from dualwrite.engine.bulk import streams_to
from dualwrite.engine.capture import ChangeReader, engine_origin, install_capture
from dualwrite.engine.capture.reader import (
    Change,
    Scan,
    current_rows,
    decode_row,
    normalize_moment,
    normalize_row,
    normalize_rows,
)
from dualwrite.engine.capture.schema import changelog, queue_guard
from dualwrite.engine.plan import Plan, plan_for, source_columns
from dualwrite.engine.synchronous import applied_elsewhere
from dualwrite.engine.syncstate import (
    PositionMoved,
    count_changes,
    ensure_sync_schema,
    get_position,
    record_conflict,
    record_error,
    resolve_errors,
    set_position,
    sync_errors,
)
from dualwrite.maps.model import TableMap
from dualwrite.maps.validate import dependency_order

Progress = Callable[[str, int, int], None]
Master = Literal["fo", "dataverse"]


def directions(tmap: TableMap) -> list[Direction]:
    """F&O → Dataverse always (the key flows); Dataverse → F&O when a field or lookup flows back."""
    return ["fo_to_dv", "dv_to_fo"] if tmap.flows_to_fo else ["fo_to_dv"]


@dataclass(frozen=True)
class BatchResult:
    applied: int
    skipped: int
    failed: int
    position: int
    # Per change: milliseconds from capture in the source to commit in the target (lag).
    latencies_ms: tuple[float, ...] = ()


@dataclass
class Link:
    """Two data stores, the legal entities synced between them, and the published maps."""

    fo_url: str
    dv_url: str
    legal_entities: frozenset[str]
    maps: Sequence[TableMap]
    batch_size: int = 500
    fo: Engine = field(init=False)
    dv: Engine = field(init=False)
    _readers: dict[tuple[str, str], ChangeReader] = field(default_factory=dict, init=False)
    # Per map and direction: the position stored in the target and how far the log was read.
    _cursors: dict[tuple[str, str], _Cursor] = field(default_factory=dict, init=False)
    _scanners: dict[Direction, ChangeReader] = field(default_factory=dict, init=False)
    _plans: dict[tuple[str, str], Plan] = field(default_factory=dict, init=False)
    # Directions whose target's bookkeeping tables were checked by this Link (sync_batch).
    _bookkept: set[str] = field(default_factory=set, init=False)
    # Per direction and source table: the last read in a worker pass (see _read).
    _shared_reads: dict[tuple[str, str], tuple[Scan, int, list[Change], int]] = field(
        default_factory=dict, init=False
    )

    def __post_init__(self) -> None:
        self.maps = dependency_order(self.maps)
        self.fo = make_engine(self.fo_url)
        self.dv = make_engine(self.dv_url)
        self.last_initial_sync: tuple[int, int, int] | None = None  # read, written, failed

    @property
    def by_name(self) -> dict[str, TableMap]:
        return {m.name: m for m in self.maps}

    def close(self) -> None:
        self.fo.dispose()
        self.dv.dispose()

    def source(self, direction: Direction) -> Engine:
        return self.fo if direction == "fo_to_dv" else self.dv

    def target(self, direction: Direction) -> Engine:
        return self.dv if direction == "fo_to_dv" else self.fo

    # --- preparation ---

    def prepare(self, tmap: TableMap) -> None:
        """Capture on both tables and engine bookkeeping on both stores (idempotent)."""
        for engine in (self.fo, self.dv):
            ensure_sync_schema(engine)
        install_capture(self.fo, [source_table(tmap, "fo_to_dv")])
        install_capture(self.dv, [source_table(tmap, "dv_to_fo")])

    def head(self, direction: Direction) -> int:
        """The source change log's last position: where live sync starts without history."""
        engine = self.source(direction)
        with translate_errors(engine.url), engine.connect() as conn:
            return int(conn.scalar(select(func.coalesce(func.max(changelog.c.position), 0))) or 0)

    def position(self, tmap: TableMap, direction: Direction) -> int | None:
        engine = self.target(direction)
        with translate_errors(engine.url), engine.connect() as conn:
            return get_position(conn, tmap.name, direction)

    def start_live(self, tmap: TableMap) -> None:
        """Start capturing from now for every direction that has no position yet."""
        self.prepare(tmap)
        for direction in directions(tmap):
            if self.position(tmap, direction) is None:
                engine = self.target(direction)
                head = self.head(direction)
                with translate_errors(engine.url), engine.begin() as conn:
                    set_position(conn, tmap.name, direction, head)
                self._cursors[(tmap.name, direction)] = _Cursor(head)

    # --- applying ---

    @contextmanager
    def _applier(
        self,
        tmap: TableMap,
        direction: Direction,
        lookups: Connection | None = None,
    ) -> Iterator[tuple[Connection, Applier]]:
        """A target transaction (engine origin: not captured) and an applier working in it.
        F&O → Dataverse lookups read the target in that transaction, or `lookups` if given."""
        target = self.target(direction)
        with translate_errors(target.url), ExitStack() as stack:
            conn = stack.enter_context(target.connect())
            stack.enter_context(conn.begin())
            stack.enter_context(engine_origin(conn))
            if direction == "fo_to_dv":
                resolver = Resolver(self.by_name, lookups or conn)
                yield conn, Applier(tmap, direction, resolver, self.legal_entities)
            else:
                with _reading(self.dv) as dv_conn:
                    resolver = Resolver(self.by_name, dv_conn)
                    yield conn, Applier(tmap, direction, resolver, self.legal_entities)

    def scan(self, tmaps: Sequence[TableMap]) -> dict[Direction, Scan]:
        """One look at each source's change log on behalf of every direction of `tmaps` that
        has read it before, from the one furthest behind: `sync_batch` then skips, without a
        query, each direction with nothing of its own in it."""
        behind: dict[Direction, int] = {}
        for tmap in tmaps:
            for direction in directions(tmap):
                cursor = self._cursors.get((tmap.name, direction))
                if cursor is not None:
                    behind[direction] = min(behind.get(direction, cursor.read), cursor.read)
        scans = {}
        for direction, after in behind.items():
            source = self.source(direction)
            if direction not in self._scanners:
                self._scanners[direction] = ChangeReader(source, [])
            scanner = self._scanners[direction]
            with translate_errors(source.url), _reading(source) as conn:
                scans[direction] = scanner.scan(after, conn)
        return scans

    def sync_batch(
        self, tmap: TableMap, direction: Direction, scan: Scan | None = None
    ) -> BatchResult:
        """Apply the next batch of source changes; the new position commits with the rows.

        The position is remembered between batches and the batch stores the next one only if
        the stored one is still what it started from, so nothing is read before a batch and a
        second worker or an initial sync elsewhere can never make a batch apply twice. With a
        `scan` of the source (see `scan`) that shows nothing for this map, nothing is read.
        """
        key = (tmap.name, direction)
        cursor = self._cursors.get(key)
        table = source_table(tmap, direction).name
        if cursor and scan and scan.idle(table, cursor.read) and not cursor.due(scan.upto):
            cursor.read = max(cursor.read, scan.upto)
            return BatchResult(0, 0, 0, cursor.read)
        if direction not in self._bookkept:  # once per Link: a store set up by an earlier
            ensure_sync_schema(self.target(direction))  # version gets what it lacks
            self._bookkept.add(direction)
        for _attempt in range(2):
            cursor = self._cursors.get(key)
            if cursor is None:
                position = self.position(tmap, direction)
                if position is None:
                    self.start_live(tmap)
                    position = self.position(tmap, direction) or 0
                cursor = self._cursors[key] = _Cursor(position)
            try:
                return self._sync_batch(tmap, direction, cursor, scan)
            except PositionMoved:
                self._cursors.pop(key, None)  # read it again and start over
        return BatchResult(0, 0, 0, self.position(tmap, direction) or 0)

    def _sync_batch(
        self, tmap: TableMap, direction: Direction, cursor: _Cursor, scan: Scan | None
    ) -> BatchResult:
        key = (tmap.name, direction)
        source = self.source(direction)
        reverse = _reverse(tmap, direction)
        with translate_errors(source.url), _reading(source) as sconn:
            changes, upto = self._read(tmap, direction, cursor.read, sconn, scan)
            if upto == cursor.read:
                return BatchResult(0, 0, 0, upto)
            if not changes and not cursor.due(upto):  # only other maps' changes: nothing to store
                cursor.read = upto
                return BatchResult(0, 0, 0, upto)
            if key not in self._plans:  # (setdefault would build one every batch)
                self._plans[key] = plan_for(tmap, direction)
            plan = self._plans[key]
            if not any(c.op == "D" or (c.row is not None and plan.matches(c.row)) for c in changes):
                # Nothing passes the map's filters (e.g. contacts seeing organisations' changes):
                # no record to write, no conflict to decide: store where the map is, no more.
                self._store_position(tmap, direction, cursor.stored, upto, len(changes))
                cursor.store(upto)
                return BatchResult(0, len(changes), 0, upto, _lags(changes))
            # The other direction's position lives in this direction's source store.
            reverse_position = get_position(sconn, tmap.name, reverse) if reverse else None
        batch = _Batch(tmap, direction, cursor.stored, upto, changes, reverse_position)
        try:  # the common case in one go, no savepoints
            applied, skipped, failed = self._apply_batch(batch, together=True)
        except _Replay:  # something failed and all of it was rolled back: record by record
            applied, skipped, failed = self._apply_batch(batch, together=False)
        cursor.store(upto)
        return BatchResult(applied, skipped, failed, upto, _lags(changes))

    def _read(
        self,
        tmap: TableMap,
        direction: Direction,
        after: int,
        conn: Connection,
        scan: Scan | None,
    ) -> tuple[list[Change], int]:
        """The next changes of the map's source table. Maps on one table (accounts and contacts
        both read customers) share a read made in the same worker pass from the same position:
        the log and the records are read once."""
        table = source_table(tmap, direction)
        shared = self._shared_reads.get((direction, table.name))
        if scan is not None and shared is not None and shared[0] is scan and shared[1] == after:
            return shared[2], shared[3]
        key = (tmap.name, direction)
        if key not in self._readers:
            self._readers[key] = ChangeReader(self.source(direction), [table], self.batch_size)
        changes, upto = self._readers[key].read(after, conn)
        if scan is not None:
            self._shared_reads[(direction, table.name)] = (scan, after, changes, upto)
        return changes, upto

    def _store_position(
        self, tmap: TableMap, direction: Direction, expected: int, upto: int, taken: int
    ) -> None:
        """Move the stored position past changes that needed no write (records out of the
        map's filters: taken, neither applied nor failed)."""
        target = self.target(direction)
        with translate_errors(target.url), target.begin() as conn:
            set_position(conn, tmap.name, direction, upto, expected=expected)
            count_changes(conn, tmap.name, direction, taken, 0, 0, skipped=taken)

    def _apply_batch(self, batch: _Batch, together: bool) -> tuple[int, int, int]:
        """One target transaction: conflicts decided, records applied, errors logged, position
        and counters stored; returns (applied, skipped, failed). `together`: apply everything at
        once and raise _Replay on any failure; otherwise each record under a savepoint, failures
        going to the error log."""
        tmap, direction = batch.tmap, batch.direction
        applied = failed = 0
        with self._applier(tmap, direction) as (conn, applier):
            # Changes a synchronous write applied already (engine/synchronous.py) are its own.
            synced = applied_elsewhere(conn, tmap.name, direction, batch.position, batch.upto)
            changes = [c for c in batch.changes if c.position not in synced]
            pending = self._pending_reverse(conn, tmap, direction, batch.reverse_position)
            has_open_errors = _open_errors(conn, tmap.name, direction)
            steps = []
            for change in _latest_per_record(changes):
                op, row = change.op, change.row
                if op == "D":  # deleted, then created again since: carry the record as it is now
                    again = self._recreated(tmap, direction, change.key)
                    if again is not None:
                        op, row = "U", again
                if pending and self._loses_conflict(conn, applier, change, row, pending):
                    continue
                steps.append((change, op, row))
            failures: list[tuple[Change, dict[str, Any] | None, str]] = []
            if together:
                try:
                    if _bulk_ready(tmap, steps):
                        records = [(change.key, row) for change, _op, row in steps]
                        applied = applier.apply_all(conn, records)
                    else:
                        for change, op, row in steps:
                            applied += applier.apply(conn, op, change.key, row, change.old_key)
                except (RecordError, DBAPIError) as exc:
                    raise _Replay from exc
            else:
                for change, op, row in steps:
                    reason = applier.apply_safely(conn, op, change.key, row, change.old_key)
                    if reason is None:
                        applied += applier.writes(op, row)  # out of the filters: skipped
                    else:
                        failures.append((change, row, reason))
            if has_open_errors:
                failed_keys = {id(c) for c, _, _ in failures}
                for change, _op, _row in steps:
                    if id(change) not in failed_keys:
                        resolve_errors(conn, tmap.name, direction, change.key)
            for change, row, reason in failures:
                failed += 1
                record_error(conn, tmap.name, direction, change.table, change.key, row, reason)
            set_position(conn, tmap.name, direction, batch.upto, expected=batch.position)
            taken = len(changes)
            skipped = taken - applied - failed  # out of scope, superseded, conflicts lost
            count_changes(conn, tmap.name, direction, taken, applied, failed, skipped)
        return applied, skipped, failed

    def _recreated(
        self, tmap: TableMap, direction: Direction, key: dict[str, Any]
    ) -> dict[str, Any] | None:
        """The source record with the deleted record's integration key, if one exists again
        (e.g. the engine recreated it after the other side won a conflict)."""
        columns = tmap.fo_key if direction == "fo_to_dv" else tmap.dv_key
        if any(key.get(c) is None for c in columns):
            return None
        return self._source_row(
            direction, source_table(tmap, direction), {c: key[c] for c in columns}
        )

    @staticmethod
    def _pending_reverse(
        conn: Connection, tmap: TableMap, direction: Direction, position: int | None
    ) -> dict[tuple[Any, ...], Any]:
        """Changes the other side captured for this map and has not sent yet (after the other
        direction's `position`): key -> time. `conn` is this direction's target, where the other
        direction's change log is."""
        reverse = _reverse(tmap, direction)
        if reverse is None or position is None:
            return {}
        table = source_table(tmap, reverse)
        key_columns = tmap.dv_key if direction == "fo_to_dv" else tmap.fo_key
        rows = conn.execute(
            select(changelog.c.new_data, changelog.c.old_data, changelog.c.captured_at)
            .where(changelog.c.position > position, changelog.c.table_name == table.name)
            .order_by(changelog.c.position)
        ).all()
        pending: dict[tuple[Any, ...], Any] = {}
        for new_data, old_data, captured_at in rows:
            image = decode_row(table, new_data or old_data) or {}
            pending[tuple(image.get(c) for c in key_columns)] = normalize_moment(captured_at)
        return pending

    def _loses_conflict(
        self,
        conn: Connection,
        applier: Applier,
        change: Change,
        row: dict[str, Any] | None,
        pending: dict[tuple[Any, ...], Any],
    ) -> bool:
        """Both sides changed the record since the last sync: the newer change wins, a tie goes
        to the map's master. The decision and both versions are logged."""
        tmap = applier.tmap
        try:
            target_key = applier.target_key(change.key)
        except RecordError:
            return False  # cannot even name the record on the other side: no conflict to decide
        key_columns = tmap.dv_key if applier.direction == "fo_to_dv" else tmap.fo_key
        theirs = pending.get(tuple(target_key.get(c) for c in key_columns))
        if theirs is None:
            return False
        mine = change.captured_at
        side = applier.source_side
        wins = mine > theirs or (mine == theirs and tmap.master == side)
        winner = side if wins else ("dataverse" if side == "fo" else "fo")
        rule = "master on a tie" if mine == theirs else "newest change"
        other = applier.current_target(conn, target_key)
        fo_version, dv_version = (row, other) if side == "fo" else (other, row)
        record_conflict(conn, tmap.name, change.key, winner, rule, fo_version, dv_version)
        return not wins

    def sync_until_idle(self, tmap: TableMap, max_batches: int = 10_000) -> int:
        """Catch a map up in every direction; returns how many changes were applied."""
        total = 0
        for direction in directions(tmap):
            before = None
            for _ in range(max_batches):
                result = self.sync_batch(tmap, direction)
                total += result.applied
                if result.position == before:
                    break
                before = result.position
        return total

    # --- queue limits of paused maps ---

    def queue_stats(self, tmap: TableMap) -> tuple[int, int, datetime | None]:
        """Changes captured but not applied, over all directions: (count, bytes, oldest)."""
        count = size = 0
        oldest: datetime | None = None
        for direction in directions(tmap):
            position = self.position(tmap, direction)
            if position is None:
                continue
            source = self.source(direction)
            image = func.coalesce(func.length(changelog.c.old_data), 0) + func.coalesce(
                func.length(changelog.c.new_data), 0
            )
            with source.connect() as conn:
                row = conn.execute(
                    select(
                        func.count(),
                        func.coalesce(func.sum(image + 64), 0),
                        func.min(changelog.c.captured_at),
                    ).where(
                        changelog.c.position > position,
                        changelog.c.table_name == source_table(tmap, direction).name,
                    )
                ).one()
            count += int(row[0] or 0)
            size += int(row[1] or 0)
            if row[2] is not None:
                moment = normalize_moment(row[2])
                oldest = moment if oldest is None else min(oldest, moment)
        return count, size, oldest

    def list_queued(
        self, tmap: TableMap, direction: Direction, after: int | None, limit: int
    ) -> list[dict[str, Any]]:
        """Captured changes not applied yet, oldest first, one page after position `after`."""
        position = self.position(tmap, direction)
        if position is None:
            return []
        start = max(position, after or 0)
        source = source_table(tmap, direction)
        with self.source(direction).connect() as conn:
            rows = conn.execute(
                select(changelog)
                .where(changelog.c.position > start, changelog.c.table_name == source.name)
                .order_by(changelog.c.position)
                .limit(limit)
            ).all()
        return [
            {
                "position": r.position,
                "direction": direction,
                "operation": {"I": "insert", "U": "update", "D": "delete"}[r.op],
                "key": decode_row(source, r.new_data or r.old_data) or {},
                "captured_at": normalize_moment(r.captured_at),
            }
            for r in rows
        ]

    def guard(self, tmap: TableMap, reason: str | None) -> None:
        """Refuse (reason given) or allow again (None) application writes to the map's tables."""
        for direction in directions(tmap):
            table = source_table(tmap, direction).name
            engine = self.source(direction)
            with translate_errors(engine.url), engine.begin() as conn:
                conn.execute(delete(queue_guard).where(queue_guard.c.table_name == table))
                if reason is not None:
                    conn.execute(insert(queue_guard).values(table_name=table, reason=reason[:500]))

    # --- initial sync ---

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
            separate = direction == "fo_to_dv" and not _refers_to_itself(tmap)
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
            self._cursors[(tmap.name, live_direction)] = _Cursor(start)
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
                query = select(*read).order_by(*pk).limit(self.batch_size)
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

    # --- errors ---

    def retry_errors(
        self, tmap: TableMap, direction: Direction, error_id: int | None = None
    ) -> tuple[int, int]:
        """Apply the current source record of every open error (or one) again:
        (fixed, still failing)."""
        source = source_table(tmap, direction)
        target = self.target(direction)
        query = select(sync_errors.c.source_key).where(
            sync_errors.c.map_name == tmap.name,
            sync_errors.c.direction == direction,
            sync_errors.c.status == "open",
        )
        if error_id is not None:
            query = query.where(sync_errors.c.id == error_id)
        with target.connect() as conn:
            open_rows = conn.execute(query).all()
        fixed = failing = 0
        for (key_json,) in open_rows:
            key = decode_row(source, key_json) or {}
            row = self._source_row(direction, source, key)
            with self._applier(tmap, direction) as (conn, applier):
                op = "I" if row is not None else "D"
                reason = applier.apply_safely(conn, op, key, row, None)
                if reason is None:
                    fixed += 1
                    conn.execute(
                        update(sync_errors)
                        .where(
                            sync_errors.c.map_name == tmap.name,
                            sync_errors.c.direction == direction,
                            sync_errors.c.source_key == key_json,
                            sync_errors.c.status == "open",
                        )
                        .values(status="resolved")
                    )
                    count_changes(conn, tmap.name, direction, 0, 1, 0)  # applied after all
                else:
                    failing += 1
                    record_error(conn, tmap.name, direction, source.name, key, row, reason)
        return fixed, failing

    def _source_row(
        self, direction: Direction, table: Any, key: dict[str, Any]
    ) -> dict[str, Any] | None:
        engine = self.source(direction)
        with engine.connect() as conn:
            found = (
                conn.execute(select(table).where(and_(*(table.c[k] == v for k, v in key.items()))))
                .mappings()
                .first()
            )
        return normalize_row(table, found) if found else None

    def discard_error(self, tmap: TableMap, direction: Direction, error_id: int) -> bool:
        """Mark one open error discarded (the caller logs who and why); False if not open here."""
        engine = self.target(direction)
        with translate_errors(engine.url), engine.begin() as conn:
            result = conn.execute(
                update(sync_errors)
                .where(
                    sync_errors.c.id == error_id,
                    sync_errors.c.map_name == tmap.name,
                    sync_errors.c.direction == direction,
                    sync_errors.c.status == "open",
                )
                .values(status="discarded", updated_at=func.now())
            )
            return bool(getattr(result, "rowcount", 0))

    def open_errors(self, tmap: TableMap, direction: Direction) -> list[dict[str, Any]]:
        engine = self.target(direction)
        with engine.connect() as conn:
            rows = conn.execute(
                select(sync_errors)
                .where(
                    sync_errors.c.map_name == tmap.name,
                    sync_errors.c.direction == direction,
                    sync_errors.c.status == "open",
                )
                .order_by(sync_errors.c.id)
            ).mappings()
            return [{**dict(r), "source_key": json.loads(r["source_key"])} for r in rows]


@dataclass
class _Cursor:
    """Where a map direction stands in its source's change log. `stored` is the position in the
    target store (what a restart resumes from); `read` may be ahead of it, past entries that
    were all other maps' changes: replaying those after a crash would apply nothing, so they
    are stored only with the map's next change of its own or when `due`, instead of costing a
    target transaction per batch of every map that shares the source."""

    stored: int
    read: int = field(init=False)
    stored_at: float = field(init=False)

    def __post_init__(self) -> None:
        self.store(self.stored)

    def due(self, upto: int) -> bool:
        """Store a run of other maps' changes anyway after a while, so a restart replays little."""
        return upto > self.stored and (
            upto - self.stored >= STORE_SKIPPED_EVERY
            or time.monotonic() - self.stored_at >= STORE_SKIPPED_AFTER_SECONDS
        )

    def store(self, position: int) -> None:
        self.stored = self.read = position
        self.stored_at = time.monotonic()


# A map direction stores a position it reached past other maps' changes only this often.
STORE_SKIPPED_EVERY = 10_000  # positions
STORE_SKIPPED_AFTER_SECONDS = 10.0


@dataclass(frozen=True)
class _Batch:
    """Changes read from the source, to be applied in one target transaction."""

    tmap: TableMap
    direction: Direction
    position: int  # where the batch starts (the stored position)
    upto: int  # where it ends: the position stored with its rows
    changes: list[Change]
    reverse_position: int | None  # the other direction's, for conflicts


class _Replay(Exception):
    """Applying a batch in one go failed; its transaction is rolled back to go record by record."""


@contextmanager
def _reading(engine: Engine) -> Iterator[Connection]:
    """A connection for reading the source. On PostgreSQL it runs without a transaction (each
    statement sees what is committed, as in one), which spares a BEGIN and a ROLLBACK per batch;
    elsewhere switching would cost as much as it saves."""
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execution_options(isolation_level="AUTOCOMMIT")
        yield conn


def _bulk_ready(tmap: TableMap, steps: Sequence[tuple[Change, str, Any]]) -> bool:
    """Upserts whose integration key did not change, of a map that does not look up its own
    records, can go in a few statements for the whole batch (`Applier.apply_all`)."""
    return not _refers_to_itself(tmap) and all(
        op != "D" and (not change.old_key or change.old_key == change.key)
        for change, op, _row in steps
    )


def _lags(changes: Sequence[Change]) -> tuple[float, ...]:
    """Per change: milliseconds from its capture in the source until now (just committed)."""
    committed = datetime.now(UTC)
    return tuple((committed - c.captured_at).total_seconds() * 1000 for c in changes)


def _latest_per_record(changes: Sequence[Change]) -> list[Change]:
    """One change per record: each carries the record as it is now, so the last one says it all.
    A key change seen earlier in the batch is kept, so the target record can still be found."""
    latest: dict[tuple[Any, ...], Change] = {}
    first_old_key: dict[tuple[Any, ...], dict[str, Any] | None] = {}
    for change in changes:
        record = tuple(sorted(change.key.items(), key=lambda item: item[0]))
        first_old_key.setdefault(record, change.old_key)
        latest.pop(record, None)  # re-insert: dict order follows the last change's position
        latest[record] = change
    out = []
    for record, change in latest.items():
        old_key = first_old_key[record]
        if old_key is not None and change.old_key != old_key:
            change = replace(change, old_key=old_key)
        out.append(change)
    return out


def _reverse(tmap: TableMap, direction: Direction) -> Direction | None:
    reverse: Direction = "dv_to_fo" if direction == "fo_to_dv" else "fo_to_dv"
    return reverse if reverse in directions(tmap) else None


def _refers_to_itself(tmap: TableMap) -> bool:
    """A lookup into the map's own records: applied one by one, each sees those before it."""
    return any(lookup.map == tmap.name for lookup in tmap.all_lookups())


def _open_errors(conn: Connection, map_name: str, direction: str) -> bool:
    query = (
        select(func.count())
        .select_from(sync_errors)
        .where(
            sync_errors.c.map_name == map_name,
            sync_errors.c.direction == direction,
            sync_errors.c.status == "open",
        )
    )
    return bool(conn.scalar(query))
