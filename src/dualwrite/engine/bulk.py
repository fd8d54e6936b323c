"""Bulk writes of many new records in the caller's transaction.

SQLAlchemy's multi-row `insert(table), [dicts]` rebuilds the parameters of every row through
the compiled statement; with tens of thousands of rows that costs more than the database's own
work. Here PostgreSQL gets COPY (psycopg), the others one driver-level executemany with the
columns' bind processors applied once per value. Driver errors surface as SQLAlchemy's
DBAPIError, as from any other statement.

`copy_rows` streams: PostgreSQL stores each row as it is sent; SQLite runs executemany on chunks
in a writer thread (sqlite3 releases the GIL while SQLite works), so in both the caller prepares
the next rows while the database stores the previous ones.
"""

from __future__ import annotations

import functools
import itertools
import queue
import sqlite3
import threading
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
    conn.exec_driver_sql(sql, _converted(rows, processors))


def _converted(
    rows: Sequence[Sequence[Any]], processors: tuple[tuple[int, Callable[[Any], Any]], ...]
) -> list[Sequence[Any]]:
    """`rows` with the columns' bind processors applied."""
    if not processors:
        return list(rows)
    # Processors are pure: a value object seen in the row before (the batch's timestamp,
    # a repeated lookup GUID) reuses its converted form.
    last: list[list[Any]] = [[None, None] for _ in processors]
    converted: list[Sequence[Any]] = []
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
    return converted


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


# Rows per executemany of the SQLite writer: small enough that the last chunk of a batch (which
# nothing overlaps) is short, large enough that handing chunks over costs little.
SQLITE_CHUNK = 500
_VARIABLE_LIMIT = getattr(sqlite3, "SQLITE_LIMIT_VARIABLE_NUMBER", 9)


def streams(conn: Connection) -> bool:
    """True when `copy_rows` can send records while the caller is still producing them."""
    return conn.dialect.name in ("postgresql", "sqlite")


def streams_to(engine: Engine) -> bool:
    return engine.dialect.name in ("postgresql", "sqlite")


@contextmanager
def copy_rows(
    conn: Connection, table: Table, columns: Sequence[str]
) -> Iterator[Callable[[Sequence[Any]], None]]:
    """Insert into `table` row by row as the caller produces them (PostgreSQL: COPY; SQLite: a
    writer thread): yields a function taking one row's values at a time. The connection must
    not be used otherwise until the block ends; a failed write raises DBAPIError, at the latest
    when the block ends."""
    if conn.dialect.name == "sqlite":
        with _sqlite_writer(conn, table, columns) as write:
            yield write
        return
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


@contextmanager
def _sqlite_writer(
    conn: Connection, table: Table, columns: Sequence[str]
) -> Iterator[Callable[[Sequence[Any]], None]]:
    sql, processors = _statement(conn.dialect, table, tuple(columns), "?")
    raw = conn.connection.driver_connection
    assert isinstance(raw, sqlite3.Connection)  # noqa: S101 - SQLAlchemy's pysqlite dialect
    cursor = raw.cursor()
    # At most two chunks wait: memory stays bounded when SQLite is the slower side.
    chunks: queue.Queue[list[Sequence[Any]] | None] = queue.Queue(maxsize=2)
    failed: list[Exception] = []

    # One multi-row INSERT per chunk rather than executemany: SQLite then stores the whole chunk
    # in one call without the GIL, instead of taking it back for every row, which waits for the
    # producing thread to let go of it (up to the 5 ms switch interval each time).
    per_statement = max(1, min(SQLITE_CHUNK, raw.getlimit(_VARIABLE_LIMIT) // len(columns)))
    head, mark = sql.split(" VALUES ", 1)

    def work() -> None:
        while (chunk := chunks.get()) is not None:
            if failed:  # after a failure the rest is only drained
                continue
            try:
                rows = _converted(chunk, processors)
                for start in range(0, len(rows), per_statement):
                    part = rows[start : start + per_statement]
                    values = ", ".join(itertools.repeat(mark, len(part)))
                    cursor.execute(f"{head} VALUES {values}", list(itertools.chain(*part)))
            except Exception as exc:  # any: a writer that died would leave `put` blocked
                failed.append(exc)

    def check() -> None:
        if failed and isinstance(failed[0], sqlite3.Error):
            raise DBAPIError.instance(sql, None, failed[0], sqlite3.Error, dialect=conn.dialect)
        if failed:
            raise failed[0]

    pending: list[Sequence[Any]] = []

    def write(row: Sequence[Any]) -> None:
        pending.append(row)
        if len(pending) >= SQLITE_CHUNK:
            check()  # stop producing once the database refused a chunk
            chunks.put(pending.copy())
            pending.clear()

    writer = threading.Thread(target=work, name="dualwrite-sqlite-writer", daemon=True)
    writer.start()
    try:
        yield write
        if pending:
            chunks.put(pending)
    finally:
        # The writer must be done with the connection before anyone else uses it (a rollback).
        chunks.put(None)
        writer.join()
        cursor.close()
    check()
