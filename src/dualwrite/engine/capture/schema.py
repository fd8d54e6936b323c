"""The capture tables that live in every data store next to the business tables."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Engine,
    MetaData,
    String,
    Table,
    func,
)

from dualwrite.databases import create_missing
from dualwrite.stores.types import AutoId, LongText, Moment

metadata = MetaData()


changelog = Table(
    "dw_changelog",
    metadata,
    # Readers scan by position only; a second index would slow every captured write.
    Column("position", AutoId, primary_key=True, autoincrement=True),
    Column("table_name", String(64), nullable=False),
    Column("op", String(1), nullable=False),  # I, U, D
    Column("old_data", LongText),  # row before the change (U, D), JSON
    Column("new_data", LongText),  # row after the change (I, U), JSON
    Column("txid", BigInteger),  # PostgreSQL: the writing transaction
    Column(
        "captured_at",
        Moment,
        nullable=False,
        server_default=func.current_timestamp(),
    ),
)

# SQLite has no session variables: the engine writes a row here inside its own transaction and
# deletes it before commit, and the triggers skip while it exists (see origin.py).
apply_marker = Table(
    "dw_apply_marker",
    metadata,
    Column("id", AutoId, primary_key=True),
)


# A row here refuses application writes to the table (its paused map's queue is over the limit);
# the capture triggers check it. The engine's own writes are never refused.
queue_guard = Table(
    "dw_queue_guard",
    metadata,
    Column("table_name", String(64), primary_key=True),
    Column("reason", String(500), nullable=False),
)


def ensure_capture_schema(engine: Engine) -> None:
    create_missing(engine, metadata)
