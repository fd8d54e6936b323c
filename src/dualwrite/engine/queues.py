"""What a map holds back: changes captured and not applied yet (a paused map's queue), and the
guard that refuses application writes past its limits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select

from dualwrite.databases import translate_errors
from dualwrite.engine.apply import Direction, source_table
from dualwrite.engine.capture.reader import decode_row, normalize_moment
from dualwrite.engine.capture.schema import changelog, queue_guard
from dualwrite.engine.linkcore import LinkCore, directions
from dualwrite.maps.model import TableMap


class Queues(LinkCore):
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
