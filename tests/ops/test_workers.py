"""What operators see of the workers sharing the maps (issue 13): the API, the Dual-write page's
workers section and the metrics show each worker, its heartbeat, the map directions it leases
and the changes waiting there; a worker that stopped renewing shows as gone; other tenants'
administrators and plain users see none of it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text, update

from dualwrite.control.models import DualWriteLink, TableMapState, WorkerProcess, utcnow
from dualwrite.control.store import ControlStore
from dualwrite.databases import make_engine
from dualwrite.engine.ownership import LEASE_SECONDS, Ownership
from dualwrite.identity import directory
from dualwrite.link import tablemaps
from dualwrite.link.links import link_maps
from dualwrite.link.overview import engine_link
from dualwrite.settings import Settings
from dualwrite.stores.generator import seed_fo
from factories import PASSWORD, add_user, bootstrap, linked_world

ACCOUNTS = "Customers V3 (accounts)"


@pytest.fixture
def leased(
    store: ControlStore, settings: Settings, new_database: Callable[[str], str]
) -> tuple[Ownership, str]:
    """Worker w-a leases the accounts map's two directions, with three F&O changes waiting
    to be applied; worker w-b registered and then stopped renewing (killed)."""
    fo_url, dv_url = new_database("sqlite"), new_database("sqlite")
    with store.session() as session:
        link = linked_world(session, settings, fo_url, dv_url)
        admin = directory.get_user(session, "admin@contoso.onmicrosoft.com")
        add_user(session, admin, "joe")
        bootstrap(session, "fabrikam.onmicrosoft.com")  # another tenant's Global admin
        chain = [m.name for m in link_maps(link) if m.name == ACCOUNTS or not m.depends_on]
        tablemaps.run_maps(session, admin, link, chain, initial_sync=False)
        accounts = session.scalars(select(TableMapState).where(TableMapState.name == ACCOUNTS))
        map_id = accounts.one().id
    seed_fo(fo_url, legal_entities=["USMF"], customers=0)
    a = Ownership(store, "w-a", "nats://127.0.0.1:4222")
    b = Ownership(store, "w-b", "nats://127.0.0.1:4222")
    a.register()
    b.register()
    past = utcnow() - timedelta(seconds=LEASE_SECONDS + 5)
    with store.session() as session:
        session.execute(
            update(WorkerProcess).where(WorkerProcess.id == "w-b").values(heartbeat_at=past)
        )
    assert len(a.owned([(map_id, "fo_to_dv"), (map_id, "dv_to_fo")])) == 2  # w-b is gone
    return a, fo_url


def _bearer(client: TestClient, upn: str) -> dict[str, str]:
    token = client.post("/api/v1/auth/token", json={"upn": upn, "password": PASSWORD})
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


def _sign_in(client: TestClient, upn: str) -> None:
    client.cookies.clear()
    login = client.get("/login")
    csrf = login.text.split('name="login_csrf" value="')[1].split('"')[0]
    client.post("/login", data={"upn": upn, "password": PASSWORD, "login_csrf": csrf})


def _capture_three_changes(fo_url: str, store: ControlStore) -> None:
    """Three customers written in F&O after the map started: captured, not applied yet."""
    engine = make_engine(fo_url)
    try:
        with engine.begin() as conn:
            for n in range(3):
                conn.execute(
                    text(
                        "INSERT INTO customersv3 (dataareaid, customeraccount, organizationname,"
                        " partytype, customergroupid, salescurrencycode, creditlimit)"
                        " VALUES ('USMF', :a, 'New', 'Organization', '10', 'USD', 0)"
                    ),
                    {"a": f"NEW-{n}"},
                )
    finally:
        engine.dispose()


def test_operators_see_workers_leases_and_what_waits(
    client: TestClient, store: ControlStore, leased: tuple[Ownership, str]
) -> None:
    _owner, fo_url = leased
    with store.session() as session:  # the map's positions start now: what follows waits
        link = session.scalars(select(DualWriteLink)).one()
        with engine_link(link) as engine:
            engine.start_live(engine.by_name[ACCOUNTS])
    _capture_three_changes(fo_url, store)
    body = client.get("/api/v1/workers", headers=_bearer(client, "admin@contoso.onmicrosoft.com"))
    assert body.status_code == 200
    workers = {w["id"]: w for w in body.json()}
    assert set(workers) == {"w-a", "w-b"}
    assert workers["w-a"]["alive"] is True and workers["w-b"]["alive"] is False
    assert workers["w-a"]["stream"] == "nats://127.0.0.1:4222"
    leases = {(lease["map_name"], lease["direction"]): lease for lease in workers["w-a"]["leases"]}
    assert set(leases) == {(ACCOUNTS, "fo_to_dv"), (ACCOUNTS, "dv_to_fo")}
    assert leases[(ACCOUNTS, "fo_to_dv")]["environment"] == "contoso-test"
    assert leases[(ACCOUNTS, "fo_to_dv")]["queued"] == 3
    assert leases[(ACCOUNTS, "dv_to_fo")]["queued"] == 0
    assert workers["w-b"]["leases"] == []

    _sign_in(client, "admin@contoso.onmicrosoft.com")
    page = client.get("/environments/contoso-test/dualwrite").text
    section = page.split('id="workers"')[1].split("</section>")[0]
    assert "w-a" in section and f"{ACCOUNTS} fo_to_dv: 3 waiting" in section
    assert "w-b" in section and "(gone)" in section

    metrics = client.get(
        "/api/v1/metrics", headers=_bearer(client, "admin@contoso.onmicrosoft.com")
    ).text
    assert 'dualwrite_worker_up{host="' in metrics
    assert 'dualwrite_worker_leases{worker="w-a"} 2.0' in metrics
    assert 'dualwrite_worker_leases{worker="w-b"} 0.0' in metrics


@pytest.mark.parametrize("upn", ["joe@contoso.onmicrosoft.com", "admin@fabrikam.onmicrosoft.com"])
def test_others_see_no_workers(client: TestClient, leased: tuple[Ownership, str], upn: str) -> None:
    refused = client.get("/api/v1/workers", headers=_bearer(client, upn))
    assert refused.status_code == 403
    assert "installation operator" in refused.json()["detail"]
    metrics = client.get("/api/v1/metrics", headers=_bearer(client, upn)).text
    assert "w-a" not in metrics
    if upn.startswith("joe"):
        return
    _sign_in(client, upn)  # the other tenant's admin: not even the page of contoso's env
    assert 'id="workers"' not in client.get("/environments/contoso-test/dualwrite").text
