"""A data store that stops answering while its URL stays as it was (seed 002): on SQLite its
file is replaced by a folder (root opens anything by permissions, but no one opens a folder as a
database); on PostgreSQL the database refuses connections and its sessions are cut. Both are
restored afterwards."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from backends import SERVER_URLS

SQLITE_FILES = ("", "-wal", "-shm")


@contextmanager
def store_down(url: str) -> Iterator[None]:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        with _sqlite_down(Path(parsed.database or "")):
            yield
        return
    with _postgresql_down(parsed.database or ""):
        yield


@contextmanager
def _sqlite_down(path: Path) -> Iterator[None]:
    moved = []
    for suffix in SQLITE_FILES:  # open connections keep their files; new ones find a folder
        here = Path(f"{path}{suffix}")
        if here.exists():
            os.rename(here, f"{here}.away")
            moved.append(here)
    path.mkdir()
    try:
        yield
    finally:
        path.rmdir()
        for here in moved:
            os.rename(f"{here}.away", here)


@contextmanager
def _postgresql_down(name: str) -> Iterator[None]:
    admin = create_engine(SERVER_URLS["postgresql"], isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false'))
            conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name},
            )
        yield
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true'))
        admin.dispose()
