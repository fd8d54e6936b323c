"""The apply stage of live sync: one batch of source changes into the target in one
transaction — conflicts decided, records applied (all at once, or record by record when one
fails), errors logged, position stored by compare-and-set and counters, all with the rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.exc import DBAPIError

from dualwrite.engine.apply import Applier, Direction, RecordError, source_table
from dualwrite.engine.capture.reader import Change, decode_row, normalize_moment
from dualwrite.engine.capture.schema import changelog
from dualwrite.engine.linkcore import LinkCore, refers_to_itself, reverse_of
from dualwrite.engine.synchronous import applied_elsewhere
from dualwrite.engine.syncstate import (
    PositionMoved,
    count_changes,
    record_conflict,
    record_error,
    resolve_errors,
    set_position,
    sync_errors,
)
from dualwrite.maps.model import TableMap


@dataclass(frozen=True)
class Batch:
    """Changes read from the source, to be applied in one target transaction."""

    tmap: TableMap
    direction: Direction
    position: int  # where the batch starts (the stored position)
    upto: int  # where it ends: the position stored with its rows
    changes: list[Change]
    reverse_position: int | None  # the other direction's, for conflicts


class Replay(Exception):
    """Applying a batch in one go failed; its transaction is rolled back to go record by record."""


class StreamGap(Exception):
    """A batch from the stream starts past the position stored in the target: one before it
    went missing. The source stage reads again from `stored`."""

    def __init__(self, stored: int) -> None:
        super().__init__(f"the stream skipped past position {stored}")
        self.stored = stored


class ApplyStage(LinkCore):
    def _apply_delivered(self, batch: Batch) -> tuple[int, int, int]:
        """A batch from the stream, which may have been delivered before or overlap one applied
        already: only its changes past the stored position are applied (compare-and-set
        against that position), so nothing is applied or counted twice."""
        for _attempt in range(3):
            stored = self.position(batch.tmap, batch.direction) or 0
            if stored >= batch.upto:
                return 0, 0, 0  # applied already
            if stored < batch.position:
                raise StreamGap(stored)
            if stored > batch.position:
                later = [c for c in batch.changes if c.position > stored]
                batch = replace(batch, position=stored, changes=later)
            try:
                try:
                    return self._apply_batch(batch, together=True)
                except Replay:
                    return self._apply_batch(batch, together=False)
            except PositionMoved:
                continue  # another worker applied meanwhile: look again
        return 0, 0, 0

    def _apply_batch(self, batch: Batch, together: bool) -> tuple[int, int, int]:
        """One target transaction: conflicts decided, records applied, errors logged, position
        and counters stored; returns (applied, skipped, failed). `together`: apply everything at
        once and raise Replay on any failure; otherwise each record under a savepoint, failures
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
                    raise Replay from exc
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
        reverse = reverse_of(tmap, direction)
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


def _bulk_ready(tmap: TableMap, steps: Sequence[tuple[Change, str, Any]]) -> bool:
    """Upserts whose integration key did not change, of a map that does not look up its own
    records, can go in a few statements for the whole batch (`Applier.apply_all`)."""
    return not refers_to_itself(tmap) and all(
        op != "D" and (not change.old_key or change.old_key == change.key)
        for change, op, _row in steps
    )


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
