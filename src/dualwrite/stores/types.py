"""Column types that behave the same on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

from sqlalchemy import BigInteger, DateTime, Text
from sqlalchemy.dialects import mysql, sqlite

# SQLite only auto-increments INTEGER PRIMARY KEY, not BIGINT.
AutoId = BigInteger().with_variant(sqlite.INTEGER(), "sqlite")
# MariaDB's TEXT tops out at 64 KiB.
LongText = Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")
# MariaDB's DATETIME drops fractions of a second unless asked to keep them.
Moment = DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
