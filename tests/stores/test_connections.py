"""Pooled connections to PostgreSQL and MariaDB: a connection the server cut while it sat idle
is replaced before anyone uses it; one cut within moments of its last use fails once, clearly,
and the next checkout works again (the sync worker retries its batch on the next pass)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Engine, create_engine, text

import dualwrite.databases
from backends import SERVER_URLS
from dualwrite.databases import make_engine, translate_errors
from dualwrite.errors import DualWriteError

SERVERS = ["postgresql", "mariadb"]
SESSION_ID = {"postgresql": "SELECT pg_backend_pid()", "mariadb": "SELECT CONNECTION_ID()"}


def _session_id(engine: Engine, backend: str) -> int:
    with translate_errors(engine.url), engine.connect() as conn:
        return int(conn.execute(text(SESSION_ID[backend])).scalar_one())


def _cut(backend: str, session_id: int) -> None:
    """End a server session from another connection, as a restart or an idle timeout does."""
    admin = create_engine(SERVER_URLS[backend], isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if backend == "postgresql":
                conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": session_id})
            else:
                conn.execute(text(f"KILL {int(session_id)}"))
    finally:
        admin.dispose()


@pytest.mark.parametrize("backend", SERVERS)
def test_an_idle_connection_cut_by_the_server_is_replaced_unnoticed(
    backend: str, new_database: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(new_database(backend))
    try:
        first = _session_id(engine, backend)
        _cut(backend, first)
        monkeypatch.setattr(dualwrite.databases, "PING_AFTER_IDLE_SECONDS", 0.0)  # it sat idle
        assert _session_id(engine, backend) != first
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", SERVERS)
def test_a_connection_cut_right_after_use_fails_once_then_works(
    backend: str, new_database: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dualwrite.databases, "PING_AFTER_IDLE_SECONDS", 3600.0)  # never idle
    engine = make_engine(new_database(backend))
    try:
        first = _session_id(engine, backend)
        _cut(backend, first)
        with pytest.raises(DualWriteError) as err:
            _session_id(engine, backend)
        assert err.value.code == "DW2002"
        assert _session_id(engine, backend) != first
    finally:
        engine.dispose()
