"""Engine bookkeeping kept in each target data store, committed with the rows it describes.

`dw_sync_state` holds, per map and direction, the source change-log position already applied;
because it is written in the same transaction as the applied rows, a crash can never apply a
change twice or lose one. `dw_sync_errors` keeps records that could not be applied, with their
payload and reason, written in that same transaction too.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    Engine,
    MetaData,
    String,
    Table,
    Text,
    func,
    inspect,
    select,
    text,
    update,
)

from dualwrite.databases import create_missing, translate_errors, writing
from dualwrite.stores.types import AutoId, LongText

metadata = MetaData()

sync_state = Table(
    "dw_sync_state",
    metadata,
    Column("map_name", String(200), primary_key=True),
    Column("direction", String(10), primary_key=True),  # fo_to_dv, dv_to_fo
    Column("position", BigInteger, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# Running totals per map and direction, committed with the rows like the position: what the
# metrics report as changes captured (taken + still queued), applied, failed and skipped.
sync_counters = Table(
    "dw_sync_counters",
    metadata,
    Column("map_name", String(200), primary_key=True),
    Column("direction", String(10), primary_key=True),
    Column("taken", BigInteger, nullable=False),  # changes read from the source's queue
    Column("applied", BigInteger, nullable=False),  # records written to the target
    Column("failed", BigInteger, nullable=False),  # records sent to the error log
    # Taken but not written: out of the map's scope, superseded within a batch, conflict lost.
    Column("skipped", BigInteger, nullable=False, server_default="0"),
)

sync_errors = Table(
    "dw_sync_errors",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("map_name", String(200), nullable=False, index=True),
    Column("direction", String(10), nullable=False),
    Column("source_table", String(64), nullable=False),
    Column("source_key", Text, nullable=False),  # JSON of the source record's key
    Column("payload", LongText),  # JSON of the source record as it was tried
    Column("reason", Text, nullable=False),
    Column(
        "status", String(10), nullable=False, server_default="open"
    ),  # open, resolved, discarded
    Column("attempts", BigInteger, nullable=False, server_default="1"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)


# Changes a synchronous dual-write applied already (engine/synchronous.py), written with the
# rows; the asynchronous path leaves them out and forgets them as it passes.
sync_applied = Table(
    "dw_sync_applied",
    metadata,
    Column("map_name", String(200), primary_key=True),
    Column("direction", String(10), primary_key=True),
    Column("position", BigInteger, primary_key=True),
)

sync_conflicts = Table(
    "dw_sync_conflicts",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("map_name", String(200), nullable=False, index=True),
    Column("record_key", Text, nullable=False),  # JSON of the record's key on this side
    Column("winner", String(10), nullable=False),  # fo or dataverse
    Column("rule", String(40), nullable=False),  # newest change, master on a tie
    Column("fo_version", LongText),  # JSON: the F&O record when the conflict was decided
    Column("dataverse_version", LongText),  # JSON: the Dataverse record then
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)


def ensure_sync_schema(engine: Engine) -> None:
    create_missing(engine, metadata)
    with translate_errors(engine.url), engine.connect() as conn:
        counters = {c["name"] for c in inspect(conn).get_columns(sync_counters.name)}
    if "skipped" not in counters:  # a data store set up before skipped changes were counted
        with writing(engine) as conn:
            conn.execute(
                text(f"ALTER TABLE {sync_counters.name} ADD skipped BIGINT NOT NULL DEFAULT 0")
            )


def jsonable(value: Any) -> Any:
    """A database value as JSON holds it: exact decimals as text, dates and moments in ISO 8601,
    bytes in hex."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):  # datetime too
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return value


def to_json(row: dict[str, Any] | None) -> str | None:
    if row is None:
        return None
    return json.dumps({k: jsonable(v) for k, v in row.items()}, sort_keys=True, ensure_ascii=False)


def get_position(conn: Connection, map_name: str, direction: str) -> int | None:
    query = select(sync_state.c.position).where(
        sync_state.c.map_name == map_name, sync_state.c.direction == direction
    )
    value = conn.scalar(query)
    return None if value is None else int(value)


class PositionMoved(Exception):
    """The stored position is no longer the one a batch started from: another process (a second
    worker, an initial sync) moved it. The batch's transaction must be rolled back."""


def set_position(
    conn: Connection, map_name: str, direction: str, position: int, expected: int | None = None
) -> None:
    """Store the position; with `expected`, only if it still is that (compare and set), else
    raise PositionMoved. Callers can then trust a position they remember instead of reading it
    before every batch."""
    now = datetime.now(UTC)
    query = update(sync_state).where(
        sync_state.c.map_name == map_name, sync_state.c.direction == direction
    )
    if expected is not None:
        query = query.where(sync_state.c.position == expected)
    result = conn.execute(query.values(position=position, updated_at=now))
    if not result.rowcount and expected is not None:
        raise PositionMoved(f"{map_name} {direction}: the position is no longer {expected}")
    if not result.rowcount:
        conn.execute(
            sync_state.insert().values(
                map_name=map_name, direction=direction, position=position, updated_at=now
            )
        )


def count_changes(
    conn: Connection,
    map_name: str,
    direction: str,
    taken: int,
    applied: int,
    failed: int,
    skipped: int = 0,
) -> None:
    where = (sync_counters.c.map_name == map_name, sync_counters.c.direction == direction)
    c = sync_counters.c
    counts = {"taken": taken, "applied": applied, "failed": failed, "skipped": skipped}
    result = conn.execute(
        update(sync_counters).where(*where).values({k: c[k] + v for k, v in counts.items()})
    )
    if not result.rowcount:
        conn.execute(
            sync_counters.insert().values(map_name=map_name, direction=direction, **counts)
        )


def change_counts(conn: Connection, map_name: str, direction: str) -> tuple[int, int, int, int]:
    """(taken, applied, failed, skipped) so far; zeros before the first batch."""
    c = sync_counters.c
    query = select(c.taken, c.applied, c.failed, c.skipped).where(
        c.map_name == map_name, c.direction == direction
    )
    row = conn.execute(query).first()
    return (0, 0, 0, 0) if row is None else (int(row[0]), int(row[1]), int(row[2]), int(row[3]))


def record_error(
    conn: Connection,
    map_name: str,
    direction: str,
    source_table: str,
    key: dict[str, Any],
    payload: dict[str, Any] | None,
    reason: str,
) -> None:
    """One open error per source record: a repeated failure updates it instead of piling up."""
    key_json = to_json(key) or "{}"
    now = datetime.now(UTC)
    existing = conn.scalar(
        select(sync_errors.c.id).where(
            sync_errors.c.map_name == map_name,
            sync_errors.c.direction == direction,
            sync_errors.c.source_key == key_json,
            sync_errors.c.status == "open",
        )
    )
    if existing is None:
        conn.execute(
            sync_errors.insert().values(
                map_name=map_name,
                direction=direction,
                source_table=source_table,
                source_key=key_json,
                payload=to_json(payload),
                reason=reason,
                created_at=now,
                updated_at=now,
            )
        )
    else:
        conn.execute(
            update(sync_errors)
            .where(sync_errors.c.id == existing)
            .values(
                payload=to_json(payload),
                reason=reason,
                attempts=sync_errors.c.attempts + 1,
                updated_at=now,
            )
        )


def resolve_errors(conn: Connection, map_name: str, direction: str, key: dict[str, Any]) -> None:
    """A record that applied cleanly closes its open error, if it had one."""
    conn.execute(
        update(sync_errors)
        .where(
            sync_errors.c.map_name == map_name,
            sync_errors.c.direction == direction,
            sync_errors.c.source_key == (to_json(key) or "{}"),
            sync_errors.c.status == "open",
        )
        .values(status="resolved", updated_at=datetime.now(UTC))
    )


def record_conflict(
    conn: Connection,
    map_name: str,
    key: dict[str, Any],
    winner: str,
    rule: str,
    fo_version: dict[str, Any] | None,
    dataverse_version: dict[str, Any] | None,
) -> None:
    conn.execute(
        sync_conflicts.insert().values(
            map_name=map_name,
            record_key=to_json(key) or "{}",
            winner=winner,
            rule=rule,
            fo_version=to_json(fo_version),
            dataverse_version=to_json(dataverse_version),
            created_at=datetime.now(UTC),
        )
    )
