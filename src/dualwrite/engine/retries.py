"""A map's error log: retrying records that could not be applied, discarding them, listing."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select, update

from dualwrite.databases import translate_errors
from dualwrite.engine.apply import Direction, source_table
from dualwrite.engine.capture.reader import decode_row
from dualwrite.engine.linkcore import LinkCore
from dualwrite.engine.syncstate import count_changes, record_error, sync_errors
from dualwrite.maps.model import TableMap


class ErrorLog(LinkCore):
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
