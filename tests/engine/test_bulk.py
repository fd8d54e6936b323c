"""Bulk writes: streamed rows (COPY, SQLite's writer thread) land exactly as a plain insert would
put them, and a refused row fails the whole stream so the caller can go record by record."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import (
    Boolean,
    Column,
    Engine,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    func,
    insert,
    select,
)
from sqlalchemy.exc import DBAPIError

from dualwrite.databases import make_engine
from dualwrite.engine import bulk
from dualwrite.stores.types import Moment

metadata = MetaData()
items = Table(
    "bulk_items",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("name", String(20), nullable=False),
    Column("amount", Numeric(32, 6)),
    Column("flag", Boolean),
    Column("at", Moment),
)
COLUMNS = ("id", "name", "amount", "flag", "at")
MOMENT = datetime(2024, 5, 1, 12, 30, 15, 123456, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def engine(request: pytest.FixtureRequest, new_database: Callable[[str], str]) -> Iterator[Engine]:
    the_engine = make_engine(new_database(request.param))
    metadata.create_all(the_engine)
    yield the_engine
    the_engine.dispose()


def _rows(start: int, count: int) -> list[tuple[Any, ...]]:
    return [
        (
            i,
            f"item {i}",
            None if i % 7 == 0 else Decimal(i) / 4,
            None if i % 5 == 0 else i % 2 == 0,
            None if i % 11 == 0 else MOMENT + timedelta(seconds=i),
        )
        for i in range(start, start + count)
    ]


def _stored(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        rows = conn.execute(select(items).order_by(items.c.id)).all()
    return [
        (i, n, a, f, at if at is None or at.tzinfo else at.replace(tzinfo=UTC))
        for i, n, a, f, at in rows
    ]


def test_streamed_rows_equal_a_plain_insert(engine: Engine) -> None:
    # More than one SQLite chunk, and a last one that is not full.
    count = bulk.SQLITE_CHUNK * 2 + 37
    rows = _rows(0, count)
    with engine.begin() as conn, bulk.copy_rows(conn, items, COLUMNS) as write:
        for row in rows:
            write(row)
    streamed = _stored(engine)
    with engine.begin() as conn:
        conn.execute(items.delete())
        conn.execute(insert(items), [dict(zip(COLUMNS, r, strict=True)) for r in rows])
    assert streamed == _stored(engine)
    assert len(streamed) == count
    assert streamed[3] == (3, "item 3", Decimal("0.75"), False, MOMENT + timedelta(seconds=3))


def test_a_refused_row_fails_the_stream_and_its_savepoint_keeps_nothing(engine: Engine) -> None:
    rows = _rows(0, bulk.SQLITE_CHUNK * 3)
    bad = bulk.SQLITE_CHUNK + 10
    rows[bad] = (bad, None, None, None, None)  # name is NOT NULL
    with engine.begin() as conn:
        conn.execute(insert(items), [dict(zip(COLUMNS, r, strict=True)) for r in _rows(-5, 5)])
        with (
            pytest.raises(DBAPIError),
            conn.begin_nested(),
            bulk.copy_rows(conn, items, COLUMNS) as write,
        ):
            for row in rows:
                write(row)
        # The connection works on after the failed stream, in the same transaction.
        conn.execute(insert(items), {"id": 10_000, "name": "after"})
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(items)) == 6


def test_an_error_while_producing_stops_the_writer_cleanly(engine: Engine) -> None:
    with engine.begin() as conn:
        with (
            pytest.raises(RuntimeError),
            conn.begin_nested(),
            bulk.copy_rows(conn, items, COLUMNS) as write,
        ):
            for row in _rows(0, bulk.SQLITE_CHUNK * 2 + 1):
                write(row)
            raise RuntimeError("the producer failed")
        conn.execute(insert(items), {"id": 1, "name": "kept"})
    assert [r[:2] for r in _stored(engine)] == [(1, "kept")]


def test_a_value_the_column_cannot_take_fails_the_stream_without_hanging(engine: Engine) -> None:
    rows = _rows(0, bulk.SQLITE_CHUNK * 4)
    rows[bulk.SQLITE_CHUNK + 3] = (1_000_000, "odd", "not a number", None, None)
    with engine.begin() as conn:
        with (
            pytest.raises((ValueError, DBAPIError)),
            conn.begin_nested(),
            bulk.copy_rows(conn, items, COLUMNS) as write,
        ):
            for row in rows:
                write(row)
        conn.execute(insert(items), {"id": 1, "name": "kept"})
    assert [r[:2] for r in _stored(engine)] == [(1, "kept")]
