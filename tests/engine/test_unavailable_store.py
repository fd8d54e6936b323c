"""A Dataverse data store that goes away mid-sync — PostgreSQL: connections refused and cut;
SQLite: its file cannot be opened — the map shows why, changes keep being captured and queue,
nothing is lost or doubled, and sync catches up by itself when the store is back."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from backends import SERVER_URLS, require_backend
from dualwrite.control.store import ControlStore
from dualwrite.databases import make_engine
from dualwrite.engine.worker import Worker
from dualwrite.identity import directory
from dualwrite.link import overview, tablemaps
from dualwrite.settings import Settings
from dualwrite.stores.generator import seed_fo
from factories import linked_world, the_link

ACCOUNTS = "Customers V3 (accounts)"
RENAME = "UPDATE customersv3 SET organizationname = :v WHERE customeraccount = :a"


@contextmanager
def unreachable(store: ControlStore, url: str, backend: str) -> Iterator[None]:
    """PostgreSQL: refuse new connections to the database and cut the open ones. SQLite: point
    the environment at a path whose folder is a file (SQLite cannot open it; the open pool of the
    old one is not reused because the worker rebuilds its link when a store URL changes)."""
    if backend == "sqlite":
        blocker = make_url(url).database + ".blocked"  # type: ignore[operator]
        with open(blocker, "w"):
            pass
        _point_dataverse(store, f"sqlite:///{blocker}/dataverse.db")
        try:
            yield
        finally:
            _point_dataverse(store, url)
        return
    name = make_url(url).database
    admin = create_engine(SERVER_URLS["postgresql"], isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f"ALTER DATABASE {name} ALLOW_CONNECTIONS false"))
            conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name},
            )
        yield
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"ALTER DATABASE {name} ALLOW_CONNECTIONS true"))
        admin.dispose()


def _point_dataverse(store: ControlStore, url: str) -> None:
    with store.session() as session:
        session.execute(text("UPDATE platform_environments SET dataverse_url = :u"), {"u": url})


def _scalar(url: str, sql: str) -> object:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql)).scalar()
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_dataverse_down_mid_sync_then_catch_up(
    store: ControlStore, settings: Settings, backend: str, new_database: Callable[[str], str]
) -> None:
    require_backend(backend)
    fo_url, dv_url = new_database(backend), new_database(backend)
    with store.session() as session:
        linked_world(session, settings, fo_url, dv_url)
    seed_fo(fo_url, legal_entities=["USMF"], customers=10)
    with store.session() as session:
        admin = directory.get_user(session, "admin@contoso.onmicrosoft.com")
        tablemaps.run_maps(session, admin, the_link(session), [ACCOUNTS], initial_sync=True)
    worker = Worker(store, poll_seconds=0.01)
    try:
        for _ in range(6):
            worker.tick()
        assert _scalar(dv_url, "SELECT count(*) FROM account") == 10
        fo = make_engine(fo_url)
        with unreachable(store, dv_url, backend):
            with fo.begin() as conn:  # F&O keeps working while the Dataverse is away
                for n in range(1, 6):
                    conn.execute(
                        text(RENAME),
                        {"v": f"While down {n}", "a": f"US-{n:06d}"},
                    )
            for _ in range(3):
                worker.tick()  # fails politely: the map keeps its state and says why
            with store.session() as session:
                state = next(m for m in the_link(session).table_maps if m.name == ACCOUNTS)
                assert state.state == "Running"
                assert state.last_error and state.last_error.startswith("Cannot ")
        fo.dispose()
        for _ in range(6):
            worker.tick()
    finally:
        worker.close()
    assert _scalar(dv_url, "SELECT count(*) FROM account") == 10  # nothing doubled
    assert _scalar(dv_url, "SELECT count(*) FROM account WHERE name LIKE 'While down %'") == 5
    with store.session() as session:
        assert overview.list_errors(the_link(session), ACCOUNTS) == []
        state = next(m for m in the_link(session).table_maps if m.name == ACCOUNTS)
        assert state.last_error is None  # the store is back: no stale message
        (described,) = [m for m in overview.describe_maps(the_link(session)) if m.name == ACCOUNTS]
    assert sum(described.queued.values()) == 0  # caught up
