"""Live sync: the source stage (reading a map direction's next changes from the source's log,
gap-safe, shared between maps on one table within a worker pass) handing each batch to the
apply stage; the position a map direction has reached."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import Connection

from dualwrite.databases import translate_errors
from dualwrite.engine.apply import Direction, source_table
from dualwrite.engine.applystage import ApplyStage, Batch, Replay, StreamGap
from dualwrite.engine.capture import ChangeReader
from dualwrite.engine.capture.reader import Change, Scan
from dualwrite.engine.cursors import Cursor
from dualwrite.engine.linkcore import BatchResult, directions, reading, reverse_of
from dualwrite.engine.plan import plan_for
from dualwrite.engine.stream import Stream
from dualwrite.engine.syncstate import (
    PositionMoved,
    count_changes,
    ensure_sync_schema,
    get_position,
    set_position,
)
from dualwrite.maps.model import TableMap


class LiveSync(ApplyStage):
    def start_live(self, tmap: TableMap) -> None:
        """Start capturing from now for every direction that has no position yet."""
        self.prepare(tmap)
        for direction in directions(tmap):
            if self.position(tmap, direction) is None:
                engine = self.target(direction)
                head = self.head(direction)
                with translate_errors(engine.url), engine.begin() as conn:
                    set_position(conn, tmap.name, direction, head)
                self._cursors[(tmap.name, direction)] = Cursor(head)

    def release(self, tmap: TableMap, direction: Direction) -> None:
        """Another worker runs the map direction now (scale-out): forget where this one was;
        should it run the direction again, it starts from the position stored in the target."""
        if self._cursors.pop((tmap.name, direction), None) is not None and self.stream:
            self.stream.release(tmap, direction)

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
            with translate_errors(source.url), reading(source) as conn:
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
            if self.stream is not None:  # nothing new to send; what the stream holds is applied
                return self._drain(tmap, direction, cursor, self.stream)
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
                cursor = self._cursors[key] = Cursor(position)
            try:
                return self._sync_batch(tmap, direction, cursor, scan)
            except PositionMoved:
                self._cursors.pop(key, None)  # read it again and start over
        return BatchResult(0, 0, 0, self.position(tmap, direction) or 0)

    def _sync_batch(
        self, tmap: TableMap, direction: Direction, cursor: Cursor, scan: Scan | None
    ) -> BatchResult:
        if self.stream is not None:
            return self._through_stream(tmap, direction, cursor, scan, self.stream)
        batch = self._next_batch(tmap, direction, cursor, scan)
        if not isinstance(batch, Batch):
            return batch
        try:  # the common case in one go, no savepoints
            applied, skipped, failed = self._apply_batch(batch, together=True)
        except Replay:  # something failed and all of it was rolled back: record by record
            applied, skipped, failed = self._apply_batch(batch, together=False)
        cursor.store(batch.upto)
        return BatchResult(applied, skipped, failed, batch.upto, _lags(batch.changes))

    def _next_batch(
        self, tmap: TableMap, direction: Direction, cursor: Cursor, scan: Scan | None
    ) -> Batch | BatchResult:
        """The source stage: the map direction's next changes as a batch from the position the
        cursor stored, or what was done instead (nothing new; a position moved past changes
        no write needs, which a stream carries as a batch too, to keep its ranges contiguous)."""
        key = (tmap.name, direction)
        source = self.source(direction)
        reverse = reverse_of(tmap, direction)
        with translate_errors(source.url), reading(source) as sconn:
            changes, upto = self._read(tmap, direction, cursor.read, sconn, scan)
            if upto == cursor.read:
                return BatchResult(0, 0, 0, upto)
            if not changes and not cursor.due(upto):  # only other maps' changes: nothing to store
                cursor.read = upto
                return BatchResult(0, 0, 0, upto)
            if key not in self._plans:  # (setdefault would build one every batch)
                self._plans[key] = plan_for(tmap, direction)
            plan = self._plans[key]
            passing = any(
                c.op == "D" or (c.row is not None and plan.matches(c.row)) for c in changes
            )
            if not passing and self.stream is None:
                # Nothing passes the map's filters (e.g. contacts seeing organisations' changes):
                # no record to write, no conflict to decide: store where the map is, no more.
                self._store_position(tmap, direction, cursor.stored, upto, len(changes))
                cursor.store(upto)
                return BatchResult(0, len(changes), 0, upto, _lags(changes))
            # The other direction's position lives in this direction's source store.
            reverse_position = get_position(sconn, tmap.name, reverse) if reverse else None
        return Batch(tmap, direction, cursor.stored, upto, changes, reverse_position)

    def _through_stream(
        self,
        tmap: TableMap,
        direction: Direction,
        cursor: Cursor,
        scan: Scan | None,
        stream: Stream,
    ) -> BatchResult:
        """Source stage → stream → apply stage. What the stream holds is applied first (a
        previous owner's batches, those of a stream that was away); then the next batch is
        read and sent, unless the apply stage is too far behind (back-pressure)."""
        done = self._drain(tmap, direction, cursor, stream)
        cursor = self._cursors.get((tmap.name, direction), cursor)  # a gap starts it again
        if not stream.full(tmap, direction):
            batch = self._next_batch(tmap, direction, cursor, scan)
            if isinstance(batch, Batch):
                stream.send(batch)
                cursor.store(batch.upto)  # sent: the source stage goes on from there
                done = done.plus(self._drain(tmap, direction, cursor, stream))
        return done

    def _drain(
        self, tmap: TableMap, direction: Direction, cursor: Cursor, stream: Stream
    ) -> BatchResult:
        result = BatchResult(0, 0, 0, cursor.stored)
        gap: StreamGap | None = None
        for delivery in stream.receive(tmap, direction):
            try:
                counts = self._apply_delivered(delivery.batch)
            except StreamGap as missing:  # a batch went missing: what follows it is dropped,
                gap = missing  # all of it, and read again from the stored position after
                delivery.done()
                continue
            delivery.done()
            part = BatchResult(*counts, delivery.batch.upto, _lags(delivery.batch.changes))
            result = result.plus(part)
        if gap is not None:
            stored = self.position(tmap, direction)
            self._cursors[(tmap.name, direction)] = Cursor(gap.stored if stored is None else stored)
        return result

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


def _lags(changes: Sequence[Change]) -> tuple[float, ...]:
    """Per change: milliseconds from its capture in the source until now (just committed)."""
    committed = datetime.now(UTC)
    return tuple((committed - c.captured_at).total_seconds() * 1000 for c in changes)
