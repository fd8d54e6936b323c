"""Bulk writes of many new records in the caller's transaction.

SQLAlchemy's multi-row `insert(table), [dicts]` rebuilds the parameters of every row through
the compiled statement; with tens of thousands of rows that costs more than the database's own
work. Here PostgreSQL gets COPY (psycopg), the others one driver-level executemany with the
columns' bind processors applied once per value. Driver errors surface as SQLAlchemy's
DBAPIError, as from any other statement.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from sqlalchemy import Connection, Dialect, Engine, Table, insert
from sqlalchemy.exc import DBAPIError

_PLACEHOLDER = {"qmark": "?", "format": "%s"}


def bulk_insert(
    conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Insert `rows` (values in `columns` order) into `table`."""
    if not rows:
        return
    dialect = conn.dialect
    if dialect.name == "postgresql":
        _copy(conn, table, columns, rows)
        return
    placeholder = _PLACEHOLDER.get(str(dialect.paramstyle))
    if placeholder is None:
        conn.execute(insert(table), [dict(zip(columns, r, strict=True)) for r in rows])
        return
    sql, processors = _statement(dialect, table, tuple(columns), placeholder)
    if processors:
        # Processors are pure: a value object seen in the row before (the batch's timestamp,
        # a repeated lookup GUID) reuses its converted form.
        last: list[list[Any]] = [[None, None] for _ in processors]
        converted = []
        for row in rows:
            values = list(row)
            for (i, process), seen in zip(processors, last, strict=True):
                value = values[i]
                if value is None:
                    continue
                if value is seen[0]:
                    values[i] = seen[1]
                else:
                    seen[0], seen[1] = value, process(value)
                    values[i] = seen[1]
            converted.append(tuple(values))
        rows = converted
    conn.exec_driver_sql(sql, list(rows))


@functools.cache
def _statement(
    dialect: Dialect, table: Table, columns: tuple[str, ...], placeholder: str
) -> tuple[str, tuple[tuple[int, Callable[[Any], Any]], ...]]:
    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(c) for c in columns)
    marks = ", ".join(placeholder for _ in columns)
    sql = f"INSERT INTO {quote(table.name)} ({names}) VALUES ({marks})"  # noqa: S608 - identifiers
    processors = [
        (i, table.c[c].type.dialect_impl(dialect).bind_processor(dialect))
        for i, c in enumerate(columns)
    ]
    return sql, tuple((i, p) for i, p in processors if p is not None)


def streams(conn: Connection) -> bool:
    """True when `copy_rows` can send records while the caller is still producing them."""
    return conn.dialect.name == "postgresql"


def streams_to(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


@contextmanager
def copy_rows(
    conn: Connection, table: Table, columns: Sequence[str]
) -> Iterator[Callable[[Sequence[Any]], None]]:
    """COPY into `table` (PostgreSQL): yields a function taking one row's values at a time."""
    quote = conn.dialect.identifier_preparer.quote
    sql = f"COPY {quote(table.name)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
    raw = conn.connection.driver_connection
    assert isinstance(raw, psycopg.Connection)  # noqa: S101 - the only PostgreSQL driver we pin
    try:
        with raw.cursor() as cursor, cursor.copy(sql) as copy:
            yield copy.write_row
    except psycopg.Error as exc:
        raise DBAPIError.instance(sql, None, exc, psycopg.Error, dialect=conn.dialect) from exc


def _copy(
    conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    with copy_rows(conn, table, columns) as write:
        for row in rows:
            write(row)
