"""Database URLs and engines for every store (control, F&O, Dataverse) on all three backends.

Driver errors become DW errors here and nowhere else (`translate_errors`).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, MetaData, create_engine, event, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DataError, DBAPIError, DisconnectionError, IntegrityError

from dualwrite.errors import ERR, DualWriteError

# Drivers we install and test; a bare dialect name gets its tested driver.
_DRIVERS = {
    "sqlite": "sqlite",
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mysql+pymysql",
}
_SUPPORTED = {"sqlite", "postgresql+psycopg", "mysql+pymysql", "mariadb+pymysql"}


def parse_url(raw: str) -> URL:
    """Validate a database URL and pin the driver we support; raise DW2001 naming the problem."""
    try:
        url = make_url(raw.strip())
    except ArgumentError:
        raise ERR.BAD_DATABASE_URL.error(
            url=raw, problem="it does not look like dialect://user@host/database"
        ) from None
    name = url.drivername
    if name in _DRIVERS:
        url = url.set(drivername=_DRIVERS[name])
    if url.drivername not in _SUPPORTED:
        raise ERR.BAD_DATABASE_URL.error(url=raw, problem=f"the driver '{name}' is not supported")
    if url.drivername == "sqlite":
        if not url.database or url.database == ":memory:":
            raise ERR.BAD_DATABASE_URL.error(
                url=raw, problem="a SQLite data store needs a file path"
            )
    elif not url.database:
        raise ERR.BAD_DATABASE_URL.error(url=raw, problem="the database name is missing")
    elif not url.host:
        raise ERR.BAD_DATABASE_URL.error(url=raw, problem="the host is missing")
    return url


def display_url(url: URL | str) -> str:
    """The URL with any password masked, for messages and listings."""
    parsed = make_url(url) if isinstance(url, str) else url
    return parsed.render_as_string(hide_password=True)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # The sqlite3 module's own transaction handling breaks SAVEPOINT; SQLAlchemy emits BEGIN
    # itself instead (see _sqlite_begin), so per-record savepoints work.
    dbapi_conn.isolation_level = None
    # WAL lets readers work while the worker writes; foreign keys are off by default in SQLite.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


# Execution options for SQLite transactions (other backends lock rows, not the database):
# READS_ONLY: the transaction only reads, so it need not take the write lock even on a store
# whose transactions mostly write; WRITES: it reads before it writes, so it takes the lock first.
READS_ONLY = "dualwrite_reads_only"
WRITES = "dualwrite_writes"


def _sqlite_begin(write_locking: bool) -> Any:
    # A deferred transaction that reads, then writes after another connection committed, fails
    # at once with "database is locked" (the busy timeout does not apply to that upgrade).
    # Taking the write lock up front makes such transactions wait their turn instead; one that
    # only reads neither waits for writers nor holds them up.
    def begin(conn: Any) -> None:
        options = conn.get_execution_options()
        locks = not options.get(READS_ONLY, False) and (write_locking or options.get(WRITES))
        conn.exec_driver_sql("BEGIN IMMEDIATE" if locks else "BEGIN")

    return begin


@contextmanager
def writing(engine: Engine) -> Iterator[Any]:
    """`engine.begin()` for a transaction that reads before it writes (schema set-up checks
    what exists, then creates): on SQLite it waits for other writers instead of failing with
    "database is locked" when one commits in between. Driver errors become DW errors."""
    with translate_errors(engine.url), engine.execution_options(**{WRITES: True}).begin() as conn:
        yield conn


def make_engine(raw: str | URL, *, write_locking: bool = False, **kwargs: Any) -> Engine:
    """An engine for a validated URL; SQLite files get their folder and connection pragmas.
    `write_locking`: SQLite transactions take the write lock when they begin (for a store whose
    transactions mostly write, like the control store)."""
    url = parse_url(raw) if isinstance(raw, str) else raw
    if url.drivername == "sqlite":
        from pathlib import Path

        assert url.database  # noqa: S101 - parse_url guarantees it
        folder = Path(url.database).expanduser().parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # a file where the folder should be, no permission, full disk
            raise ERR.DATABASE_FOLDER.error(
                folder=str(folder), url=display_url(url), problem=exc.strerror or str(exc)
            ) from None
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin(write_locking))
        return engine
    if url.drivername.startswith("mysql"):
        kwargs.setdefault("connect_args", {"connect_timeout": 5, "charset": "utf8mb4"})
    else:
        kwargs.setdefault("connect_args", {"connect_timeout": 5})
    engine = create_engine(url, **kwargs)
    _ping_when_idle(engine)
    return engine


def create_missing(engine: Engine, metadata: MetaData) -> None:
    """Create the tables of `metadata` that the database lacks. A look without a lock first:
    pages and the worker call this often, and once the tables exist nobody need wait."""
    with translate_errors(engine.url), engine.connect() as conn:
        have = set(inspect(conn).get_table_names())
    if not any(table.name not in have for table in metadata.sorted_tables):
        return
    for attempt in range(3):  # bounded
        try:
            with writing(engine) as conn:  # checks again under the lock, creates what is missing
                if conn.dialect.name == "postgresql":  # workers of one store start together
                    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK})
                metadata.create_all(conn)
            return
        except (DBAPIError, DualWriteError):
            # Another process created a table between the check and the CREATE (MariaDB's DDL
            # takes no part in transactions): look again; a store that is away fails again.
            if attempt == 2:
                raise
            time.sleep(0.1)


_SCHEMA_LOCK = 0x64770001  # pg_advisory_xact_lock key of dualwrite's schema set-up


# A pooled connection unused for this long is checked before it is handed out.
PING_AFTER_IDLE_SECONDS = 1.0


def _ping_when_idle(engine: Engine) -> None:
    """Like `pool_pre_ping`, but only for connections that sat idle: a server restart or an
    idle timeout is still caught before the caller sees it, while a busy loop (the sync worker
    checks connections out hundreds of times a second) does not pay a round trip each time. A
    connection that dies while in use raises once; the pool then replaces all of them."""

    def fresh(_dbapi_conn: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    def check(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        if time.monotonic() - record.info.get("idle_since", 0.0) < PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError(str(exc)) from exc  # the pool connects afresh

    event.listen(engine, "connect", fresh)
    event.listen(engine, "checkin", fresh)
    event.listen(engine, "checkout", check)


def _reason(exc: DBAPIError) -> str:
    orig = exc.orig
    text_ = str(orig if orig is not None else exc).strip().splitlines()
    return text_[0] if text_ else type(exc).__name__


# Errors about the values written (a key taken, a value out of range or too long): the engine
# sends the record to the error log and services refuse such input first, so they stay as
# they are. Every other driver error means the store cannot be used as it is.
_VALUE_ERRORS = (IntegrityError, DataError)


@contextmanager
def translate_errors(url: URL | str) -> Iterator[None]:
    """Turn a driver error that makes the store unusable into DW2002 naming the
    (password-masked) URL and the driver's reason: cannot connect, a file that is not a
    database, a table or permission missing."""
    try:
        yield
    except DualWriteError:
        raise
    except _VALUE_ERRORS:
        raise
    except DBAPIError as exc:
        raise ERR.DATABASE_UNREACHABLE.error(url=display_url(url), problem=_reason(exc)) from exc


def refused_value(exc: DataError) -> DualWriteError:
    """DW1000 for a value the database refused where a request reached it unchecked: a NUL
    character (PostgreSQL stores none), text too long, a number out of range."""
    return ERR.INVALID_INPUT.error(
        field="request", problem=f"the database refused a value: {_reason(exc)}"
    )


def check_reachable(engine: Engine) -> None:
    """Open a connection once so that a wrong host, port or database fails early and clearly."""
    with translate_errors(engine.url), engine.connect() as conn:
        conn.execute(text("SELECT 1"))
