"""Seed 002 over the REST API while the linked Dataverse does not answer (SQLite: its file is
a folder; PostgreSQL: connections refused): the maps are listed from the control store with
their figures marked unavailable, Stop answers seed 002's 403 (DW9404) and changes nothing,
and force-stop marks the maps Not running without reaching the Dataverse."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from backends import require_backend
from dualwrite.control.store import ControlStore
from dualwrite.identity import directory
from dualwrite.lifecycle import environments
from dualwrite.link import tablemaps
from dualwrite.settings import Settings
from factories import PASSWORD, add_user, linked_world, the_link, worker_ticks
from outages import store_down

BASE = "/api/v1/environments/contoso-test"
ACCOUNTS = "Customers V3 (accounts)"
ADMIN = "admin@contoso.onmicrosoft.com"


def _token(client: TestClient, upn: str) -> dict[str, str]:
    answer = client.post("/api/v1/auth/token", json={"upn": upn, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def _states(store: ControlStore) -> dict[str, str]:
    with store.session() as session:
        return {m.name: m.state for m in the_link(session).table_maps}


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_force_stop_and_listing_while_the_dataverse_is_down(
    client: TestClient,
    store: ControlStore,
    settings: Settings,
    new_database: Callable[[str], str],
    backend: str,
) -> None:
    require_backend(backend)
    fo_url, dv_url = new_database(backend), new_database(backend)
    with store.session() as session:
        linked_world(session, settings, fo_url, dv_url)
        admin = directory.get_user(session, ADMIN)
        joe = add_user(session, admin, "joe")
        link = the_link(session)
        environments.grant_environment_role(
            session, admin, link.fo_environment, joe.upn, "dualwrite-user"
        )
        tablemaps.run_maps(session, admin, link, [ACCOUNTS])
    worker_ticks(store)
    running = {name for name, state in _states(store).items() if state == "Running"}
    assert ACCOUNTS in running
    admin_h, joe_h = _token(client, ADMIN), _token(client, "joe@contoso.onmicrosoft.com")
    with store_down(dv_url):
        listed = client.get(f"{BASE}/maps", headers=joe_h)
        assert listed.status_code == 200, listed.text
        rows = {m["name"]: m for m in listed.json()}
        assert {n for n, m in rows.items() if m["state"] == "Running"} == running
        accounts = rows[ACCOUNTS]
        assert (accounts["queued"], accounts["changes"]) == (None, None)
        assert accounts["figures_unavailable"].startswith(
            "Dataverse data store cannot be reached (DW2002): "
        )

        stopped = client.post(
            f"{BASE}/maps/actions", json={"action": "stop", "maps": [ACCOUNTS]}, headers=joe_h
        )
        assert (stopped.status_code, stopped.json()["code"]) == (403, "DW9404")
        assert "force-stop" in stopped.json()["hint"]
        assert "Dataverse data store cannot be reached" in stopped.json()["hint"]
        assert dv_url not in stopped.text  # the URL (on SQLite a file path) is for admins
        if backend == "sqlite":
            assert str(make_url(dv_url).database) not in stopped.text
        assert _states(store)[ACCOUNTS] == "Running"  # nothing changed

        forced = client.post(
            f"{BASE}/maps/force-stop",
            json={"maps": [ACCOUNTS], "reason": "Dataverse away"},
            headers=admin_h,
        )
        assert forced.status_code == 200, forced.text
        after = {m["name"]: m for m in forced.json()}
        assert after[ACCOUNTS]["state"] == "Not running"
        assert after[ACCOUNTS]["queued"] is None and after[ACCOUNTS]["figures_unavailable"]
        assert {n for n, m in after.items() if m["state"] == "Running"} == running - {ACCOUNTS}
    assert _states(store)[ACCOUNTS] == "Not running"
    back = client.get(f"{BASE}/maps", headers=joe_h).json()  # the store answers again
    assert all(m["queued"] is not None and m["figures_unavailable"] is None for m in back)
