"""Real databases for tests: a fresh, isolated database per use on SQLite, PostgreSQL or MariaDB.

Locally a backend whose server is absent is skipped; with CI=true (or
DUALWRITE_TEST_REQUIRE_SERVICES=1, set by .ci/run) its absence fails the run instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

BACKENDS = ("sqlite", "postgresql", "mariadb")

SERVER_URLS = {
    "postgresql": os.environ.get(
        "DUALWRITE_TEST_POSTGRESQL_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    ),
    "mariadb": os.environ.get(
        "DUALWRITE_TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/test"
    ),
}


NATS_URL = os.environ.get("DUALWRITE_TEST_NATS_URL", "nats://127.0.0.1:4222")


def require_nats() -> str:
    """The NATS server (with JetStream) the stream tests use: skipped locally when absent,
    a failure in CI."""
    import socket

    host, port = NATS_URL.removeprefix("nats://").rsplit(":", 1)
    try:
        socket.create_connection((host, int(port)), timeout=3).close()
    except OSError as exc:
        message = f"NATS not reachable at {NATS_URL}: {exc}"
        if services_required():
            pytest.fail(f"{message} (services are required in CI)")
        pytest.skip(message)
    return NATS_URL


def store_servers() -> list[str]:
    """host:port of the test servers: where tests may name data stores (the allow-list), and
    a port nothing listens on, allowed like a server that is down."""
    servers = [f"{make_url(u).host}:{make_url(u).port}" for u in SERVER_URLS.values()]
    return [*servers, "127.0.0.1:1"]


def services_required() -> bool:
    return (
        os.environ.get("DUALWRITE_TEST_REQUIRE_SERVICES") == "1"
        or os.environ.get("CI", "").lower() == "true"
    )


_reachable: dict[str, str | None] = {}


def unavailable_reason(backend: str) -> str | None:
    """None when the backend's server answers, otherwise why not (cached per run)."""
    if backend == "sqlite":
        return None
    if backend not in _reachable:
        engine = create_engine(SERVER_URLS[backend], connect_args={"connect_timeout": 3})
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            _reachable[backend] = None
        except OperationalError as exc:
            _reachable[backend] = str(exc.orig).splitlines()[0]
        finally:
            engine.dispose()
    return _reachable[backend]


def require_backend(backend: str) -> None:
    reason = unavailable_reason(backend)
    if reason is None:
        return
    message = f"{backend} server not reachable at {SERVER_URLS[backend]}: {reason}"
    if services_required():
        pytest.fail(f"{message} (services are required in CI)")
    pytest.skip(message)


@contextmanager
def fresh_database(backend: str, tmp_dir: Path) -> Iterator[str]:
    """Create an empty database on `backend`, yield its URL, drop it afterwards."""
    require_backend(backend)
    if backend == "sqlite":
        yield f"sqlite:///{tmp_dir / f'db_{uuid.uuid4().hex[:8]}.sqlite'}"
        return
    name = f"dwtest_{uuid.uuid4().hex[:12]}"
    admin = create_engine(SERVER_URLS[backend], isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name}"))
        url = make_url(SERVER_URLS[backend]).set(database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            if backend == "postgresql":
                conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            else:
                conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        admin.dispose()


backend_params = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgresql),
    pytest.param("mariadb", id="mariadb", marks=pytest.mark.mariadb),
]
