"""Prometheus metrics: map states, queue and lag, open errors, initial sync, unreachable links."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select, text

from dualwrite.control.models import DualWriteLink
from dualwrite.control.store import ControlStore
from dualwrite.databases import make_engine
from dualwrite.engine.worker import Worker
from dualwrite.identity import directory
from dualwrite.link import tablemaps
from dualwrite.settings import Settings
from dualwrite.stores.generator import seed_fo
from factories import PASSWORD, linked_world

ACCOUNTS = "Customers V3 (accounts)"


def _samples(
    client: TestClient, headers: dict[str, str]
) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/api/v1/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


def test_metrics_follow_the_maps(
    client: TestClient, store: ControlStore, settings: Settings, new_database: Callable[[str], str]
) -> None:
    fo_url, dv_url = new_database("sqlite"), new_database("sqlite")
    with store.session() as session:
        linked_world(session, settings, fo_url, dv_url)
    seed_fo(fo_url, legal_entities=["USMF"], customers=5)
    with store.session() as session:
        admin = directory.get_user(session, "admin@contoso.onmicrosoft.com")
        link = session.scalars(select(DualWriteLink)).one()
        tablemaps.run_maps(session, admin, link, [ACCOUNTS], initial_sync=True)
    worker = Worker(store)
    for _ in range(6):
        worker.tick()
    token = client.post(
        "/api/v1/auth/token", json={"upn": "admin@contoso.onmicrosoft.com", "password": PASSWORD}
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    env = ("environment", "contoso-test")
    running = _samples(client, headers)
    assert running[("dualwrite_link_up", (env,))] == 1
    assert running[("dualwrite_map_state", (env, ("map", ACCOUNTS), ("state", "Running")))] == 1
    assert (
        running[("dualwrite_initial_sync_records", (env, ("kind", "done"), ("map", ACCOUNTS)))] == 5
    )

    with store.session() as session:  # pause, then change a record: it queues
        admin = directory.get_user(session, "admin@contoso.onmicrosoft.com")
        tablemaps.pause_maps(
            session, admin, session.scalars(select(DualWriteLink)).one(), [ACCOUNTS]
        )
    engine = make_engine(fo_url)
    with engine.begin() as conn:
        for account, name in (("US-000001", "Queued"), ("US-000002", "Also")):
            conn.execute(
                text("UPDATE customersv3 SET organizationname = :n WHERE customeraccount = :a"),
                {"n": name, "a": account},
            )
    engine.dispose()
    worker.tick()
    paused = _samples(client, headers)
    queued = ("dualwrite_changes_queued", (("direction", "fo_to_dv"), env, ("map", ACCOUNTS)))
    assert paused[queued] == 2
    assert (
        paused[("dualwrite_lag_seconds", (("direction", "fo_to_dv"), env, ("map", ACCOUNTS)))] >= 0
    )
    assert paused[("dualwrite_map_state", (env, ("map", ACCOUNTS), ("state", "Paused")))] == 1
    flow = (("direction", "fo_to_dv"), env, ("map", ACCOUNTS))
    assert paused[("dualwrite_changes_captured_total", flow)] == 2  # queued, not taken yet
    assert paused[("dualwrite_changes_applied_total", flow)] == 0

    # resumed: both applied; then one that does not fit Dataverse goes to the error log, and
    # one that leaves the map's filters (no longer an organisation) is skipped
    with store.session() as session:
        admin = directory.get_user(session, "admin@contoso.onmicrosoft.com")
        link = session.scalars(select(DualWriteLink)).one()
        tablemaps.resume_maps(session, admin, link, [ACCOUNTS])
    for _ in range(3):
        worker.tick()
    engine = make_engine(fo_url)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE customersv3 SET primarycontactemail = :e WHERE customeraccount = :a"),
            {"e": "x" * 120 + "@example.com", "a": "US-000003"},
        )
        conn.execute(
            text("UPDATE customersv3 SET partytype = 'Person' WHERE customeraccount = 'US-000004'")
        )
    engine.dispose()
    for _ in range(2):
        worker.tick()
    flowed = _samples(client, headers)
    assert flowed[("dualwrite_changes_captured_total", flow)] == 4
    assert flowed[("dualwrite_changes_applied_total", flow)] == 2
    assert flowed[("dualwrite_changes_failed_total", flow)] == 1
    assert flowed[("dualwrite_changes_skipped_total", flow)] == 1
    assert flowed[("dualwrite_sync_errors_open", flow)] == 1
    with store.session() as session:
        admin = directory.get_user(session, "admin@contoso.onmicrosoft.com")
        link = session.scalars(select(DualWriteLink)).one()
        tablemaps.pause_maps(session, admin, link, [ACCOUNTS])

    with store.session() as session:  # the Dataverse becomes unreachable: the link is down
        session.execute(
            text("UPDATE platform_environments SET dataverse_url = :u"),
            {"u": f"sqlite:///{settings.home / 'gone.txt'}/x.db"},
        )
    (settings.home / "gone.txt").write_text("")
    down = _samples(client, headers)
    assert down[("dualwrite_link_up", (env,))] == 0
    assert down[("dualwrite_map_state", (env, ("map", ACCOUNTS), ("state", "Paused")))] == 1
    worker.close()
    assert client.get("/api/v1/metrics").status_code == 401
