"""The capture tables that live in every data store next to the business tables."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Engine,
    MetaData,
    String,
    Table,
    Text,
    func,
)
from sqlalchemy.dialects import mysql, sqlite

from dualwrite.databases import translate_errors

metadata = MetaData()

# SQLite only auto-increments INTEGER PRIMARY KEY; MariaDB TEXT tops out at 64 KiB.
Position = BigInteger().with_variant(sqlite.INTEGER(), "sqlite")
Image = Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")
Moment = DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")

changelog = Table(
    "dw_changelog",
    metadata,
    # Readers scan by position only; a second index would slow every captured write.
    Column("position", Position, primary_key=True, autoincrement=True),
    Column("table_name", String(64), nullable=False),
    Column("op", String(1), nullable=False),  # I, U, D
    Column("old_data", Image),  # row before the change (U, D), JSON
    Column("new_data", Image),  # row after the change (I, U), JSON
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
    Column("id", Position, primary_key=True),
)


def ensure_capture_schema(engine: Engine) -> None:
    with translate_errors(engine.url):
        metadata.create_all(engine)
