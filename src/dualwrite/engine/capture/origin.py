"""No echo: writes the engine applies are marked so that the triggers do not capture them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, delete, insert, text

from dualwrite.engine.capture.schema import apply_marker

POSTGRES_SETTING = "dualwrite.origin"
MARIADB_VARIABLE = "@dualwrite_origin"


@contextmanager
def engine_origin(conn: Connection) -> Iterator[None]:
    """Use inside the applying transaction: its writes are not captured, others' still are."""
    dialect = conn.dialect.name
    if dialect == "postgresql":
        # Transaction-local: it vanishes at commit or rollback by itself.
        conn.execute(text("SELECT set_config(:k, 'engine', true)"), {"k": POSTGRES_SETTING})
        yield
    elif dialect in ("mysql", "mariadb"):
        conn.execute(text(f"SET {MARIADB_VARIABLE} = 'engine'"))
        try:
            yield
        finally:
            # Session variables outlive the transaction: clear it even on error (pooled sessions).
            conn.execute(text(f"SET {MARIADB_VARIABLE} = NULL"))
    else:
        conn.execute(insert(apply_marker).values(id=1))
        yield
        # On an error the caller rolls back, which removes the marker with everything else.
        conn.execute(delete(apply_marker))
