"""Waiting for new changes: PostgreSQL wakes the worker with NOTIFY, other backends poll briefly."""

from __future__ import annotations

import select
from collections.abc import Iterable

import psycopg
from sqlalchemy import Engine
from sqlalchemy.engine import URL

CHANNEL = "dw_changes"  # the capture triggers notify it (engine/capture/triggers.py)


class Wakeup:
    """LISTEN on every PostgreSQL source; `wait` returns at the first notification or timeout."""

    def __init__(self) -> None:
        self._listeners: dict[str, psycopg.Connection[tuple[object, ...]]] = {}

    def watch(self, engines: Iterable[Engine]) -> None:
        for engine in engines:
            if engine.dialect.name != "postgresql":
                continue
            key = engine.url.render_as_string(hide_password=False)
            if key not in self._listeners:
                self._listeners[key] = self._listen(engine.url)

    @staticmethod
    def _listen(url: URL) -> psycopg.Connection[tuple[object, ...]]:
        conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        conn = psycopg.connect(conninfo, autocommit=True, connect_timeout=5)
        conn.execute(f"LISTEN {CHANNEL}")
        return conn

    def wait(self, poll_seconds: float, listen_seconds: float = 1.0) -> None:
        """Sleep until a PostgreSQL source notifies (at most `listen_seconds`), or, when some
        source cannot notify, for `poll_seconds`."""
        if not self._listeners:
            select.select([], [], [], poll_seconds)
            return
        ready, _, _ = select.select(list(self._listeners.values()), [], [], listen_seconds)
        for conn in ready:
            for _note in conn.notifies(timeout=0):
                pass  # drained: one wake-up is enough, the worker reads the log itself

    def close(self) -> None:
        for conn in self._listeners.values():
            conn.close()
        self._listeners.clear()
