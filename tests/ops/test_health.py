"""Data integration service health (seed 002): the page and API say when the sync worker is not
running; the supervisor starts a dead worker again; an administrator restarts it, and sync
resumes."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from dualwrite.control.models import DualWriteLink
from dualwrite.control.store import ControlStore
from dualwrite.databases import make_engine
from dualwrite.engine.worker import Worker
from dualwrite.errors import DualWriteError
from dualwrite.identity import directory
from dualwrite.lifecycle import environments
from dualwrite.link import tablemaps
from dualwrite.ops import health
from dualwrite.ops.health import Supervisor
from dualwrite.settings import Settings
from dualwrite.stores.generator import seed_fo
from factories import PASSWORD, add_user, linked_world

ADMIN = "admin@contoso.onmicrosoft.com"
ACCOUNTS = "Customers V3 (accounts)"


def _wait(condition: Callable[[], bool], seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds  # bounded
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


def _health(store: ControlStore, now: datetime | None = None) -> health.ServiceHealth:
    with store.session() as session:
        return health.service_health(session, now)


class CrashingOnce(Worker):
    """A worker whose first pass dies, as a bug or a lost connection would end the thread."""

    crashed = False

    def tick(self) -> int:
        if not CrashingOnce.crashed:
            CrashingOnce.crashed = True
            raise RuntimeError("worker crashed")
        return super().tick()


def _world(
    store: ControlStore, settings: Settings, new_database: Callable[[str], str], backend: str
) -> str:
    fo_url, dv_url = new_database(backend), new_database(backend)
    with store.session() as session:
        linked_world(session, settings, fo_url, dv_url)
        add_user(session, directory.get_user(session, ADMIN), "joe")
    seed_fo(fo_url, legal_entities=["USMF"], customers=3)
    return fo_url


@pytest.fixture
def world(store: ControlStore, settings: Settings, new_database: Callable[[str], str]) -> str:
    return _world(store, settings, new_database, "sqlite")


@pytest.fixture(params=["sqlite", "postgresql"])
def backend_world(
    request: pytest.FixtureRequest,
    store: ControlStore,
    settings: Settings,
    new_database: Callable[[str], str],
) -> Iterator[tuple[ControlStore, str]]:
    """The control store and both data stores on SQLite, or all three on PostgreSQL."""
    if request.param == "sqlite":
        yield store, _world(store, settings, new_database, "sqlite")
        return
    control = ControlStore(new_database("postgresql"))
    control.upgrade()
    try:
        yield control, _world(control, settings, new_database, "postgresql")
    finally:
        control.dispose()


def _run_supervisor(
    store: ControlStore, supervisor: Supervisor
) -> tuple[threading.Event, threading.Thread]:
    stop = threading.Event()
    thread = threading.Thread(target=supervisor.run, args=(stop,), daemon=True)
    thread.start()
    return stop, thread


def test_health_restart_and_sync_resuming(backend_world: tuple[ControlStore, str]) -> None:
    store, world = backend_world
    never = _health(store)
    assert not never.running and "has never run" in never.message

    CrashingOnce.crashed = False  # a class attribute: each run of the test crashes once
    supervisor = Supervisor(store, make_worker=CrashingOnce, every_seconds=0.1)
    stop, thread = _run_supervisor(store, supervisor)
    _wait(lambda: supervisor.restarts >= 1)  # the dead worker was started again
    _wait(lambda: _health(store).running)
    with store.session() as session:
        admin = directory.get_user(session, ADMIN)
        link = session.scalars(select(DualWriteLink)).one()
        tablemaps.run_maps(session, admin, link, [ACCOUNTS], initial_sync=True)
        with pytest.raises(DualWriteError) as denied:
            health.request_restart(
                session, directory.get_user(session, "joe@contoso.onmicrosoft.com")
            )
        assert denied.value.code == "DW3004"
        health.request_restart(session, admin)
    _wait(lambda: supervisor.restarts >= 2)  # restarted after its current pass
    engine = make_engine(world)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE customersv3 SET organizationname = :n WHERE customeraccount = :a"),
            {"n": "After restart", "a": "US-000001"},
        )
    engine.dispose()
    with store.session() as session:
        dv_url = session.scalars(select(DualWriteLink)).one().platform_environment.dataverse_url
    dv = make_engine(dv_url or "")

    def arrived() -> bool:
        with dv.connect() as conn:
            return (
                conn.execute(
                    text("SELECT count(*) FROM account WHERE name = 'After restart'")
                ).scalar_one()
                == 1
            )

    _wait(arrived)
    dv.dispose()
    stop.set()  # the process goes away: no heartbeat any more
    thread.join(timeout=15)
    later = datetime.now(UTC) + timedelta(seconds=20)
    gone = _health(store, later)
    assert not gone.running
    assert "is not running: last seen" in gone.message


def test_the_dualwrite_page_says_the_worker_is_down(
    client: TestClient, store: ControlStore, world: str
) -> None:
    def page(upn: str) -> str:
        login = client.get("/login")
        token = login.text.split('name="login_csrf" value="')[1].split('"')[0]
        client.post("/login", data={"upn": upn, "password": PASSWORD, "login_csrf": token})
        return client.get("/environments/contoso-test/dualwrite").text

    admin_view = page(ADMIN)
    assert "Data integration service:" in admin_view and "has never run" in admin_view
    assert "Restart the sync worker" in admin_view
    client.cookies.clear()
    with store.session() as session:
        env = environments.get_environment(
            session, directory.get_user(session, ADMIN), "contoso-test"
        )
        environments.grant_environment_role(
            session,
            directory.get_user(session, ADMIN),
            env,
            "joe@contoso.onmicrosoft.com",
            "dualwrite-user",
        )
    joe_view = page("joe@contoso.onmicrosoft.com")
    assert "Ask a Global administrator to restart it." in joe_view
    assert "Restart the sync worker" not in joe_view
    client.cookies.clear()
    assert client.get("/api/v1/service-health").status_code == 401  # signed out
    token = client.post("/api/v1/auth/token", json={"upn": ADMIN, "password": PASSWORD})
    bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
    body = client.get("/api/v1/service-health", headers=bearer).json()
    assert body["running"] is False and "has never run" in body["message"]
    restart = client.post("/api/v1/service-health/restart", headers=bearer)
    assert restart.status_code == 202 and restart.json()["restart_requested_at"] is not None
