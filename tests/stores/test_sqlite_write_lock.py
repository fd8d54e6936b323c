"""SQLite data stores: a transaction that looks before it writes (schema set-up, adding missing
legal entities) waits for another writer instead of failing with "database is locked" when that
writer commits in between — as an application writing to F&O while a map starts would."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from dualwrite.databases import make_engine, translate_errors, writing
from dualwrite.errors import DualWriteError


def _engine(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, origin TEXT)"))
    return engine


def _other_writer(engine: Engine) -> threading.Thread:
    """Another connection writing (and committing) as soon as it gets the chance."""

    def write() -> None:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO t (origin) VALUES ('application')"))

    thread = threading.Thread(target=write)
    thread.start()
    time.sleep(0.3)  # long enough to commit unless it has to wait for us
    return thread


def test_writing_takes_the_lock_before_it_reads(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    try:
        with writing(engine) as conn:
            assert conn.execute(text("SELECT count(*) FROM t")).scalar_one() == 0
            other = _other_writer(engine)  # waits for our commit
            conn.execute(text("INSERT INTO t (origin) VALUES ('dualwrite')"))
        other.join(timeout=15)
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT origin FROM t ORDER BY id")).scalars().all()
        assert rows == ["dualwrite", "application"]  # both written, in lock order
    finally:
        engine.dispose()


def test_a_plain_transaction_that_reads_first_would_fail(tmp_path: Path) -> None:
    """Why `writing` exists: the same sequence in a deferred transaction fails at once."""
    engine = _engine(tmp_path)
    try:
        with (
            pytest.raises(DualWriteError, match="database is locked"),
            translate_errors(engine.url),
            engine.begin() as conn,
        ):
            conn.execute(text("SELECT count(*) FROM t")).scalar_one()
            _other_writer(engine).join(timeout=15)  # commits in between
            conn.execute(text("INSERT INTO t (origin) VALUES ('dualwrite')"))
        with engine.connect() as conn:
            assert conn.execute(text("SELECT origin FROM t")).scalars().all() == ["application"]
    finally:
        engine.dispose()
