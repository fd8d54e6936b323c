"""Dual-write over the REST API: link, apply solution, map actions, errors, permissions."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from apiflow import integrate
from dualwrite.control.store import ControlStore
from dualwrite.engine.worker import Worker

Login = Callable[[str], dict[str, str]]
ACCOUNTS = "Customers V3 (accounts)"


def _setup(client: TestClient, admin: dict[str, str], store: ControlStore) -> None:
    client.post("/api/v1/projects", json={"name": "ERP"}, headers=admin)
    body = {"name": "contoso-test", "project": "ERP", "legal_entities": ["USMF"]}
    assert client.post("/api/v1/environments", json=body, headers=admin).status_code == 201
    created = client.post("/api/v1/platform/environments", json={"name": "Sales"}, headers=admin)
    assert created.status_code == 201, created.text
    licensed = client.post(
        "/api/v1/users/admin@contoso.onmicrosoft.com/licenses",
        json={"sku": "D365_FINANCE"},
        headers=admin,
    )
    assert licensed.status_code in (200, 201), licensed.text
    integrate(client, store, admin, "contoso-test", "Sales")


def test_link_apply_and_run_maps(client: TestClient, login: Login, store: ControlStore) -> None:
    admin, joe = login("admin"), login("joe")
    _setup(client, admin, store)
    base = "/api/v1/environments/contoso-test"
    missing = client.get(f"{base}/maps", headers=admin)
    assert (missing.status_code, missing.json()["code"]) == (404, "DW5004")

    refused = client.post(
        f"{base}/link",
        json={"dataverse_environment": "Sales", "legal_entities": ["USMF"]},
        headers=joe,
    )
    assert refused.status_code in (403, 404)  # joe is not in the project: he cannot see it
    created = client.post(
        f"{base}/link",
        json={"dataverse_environment": "Sales", "legal_entities": ["USMF"], "consent": True},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    assert created.json()["dual_write_page"] == "/environments/contoso-test/dualwrite"
    unknown = client.post(
        f"{base}/link",
        json={"dataverse_environment": "Sales", "legal_entities": ["ZZZZ"], "consent": True},
        headers=admin,
    )
    assert unknown.status_code == 422  # the health check fails: legal entity, already linked
    assert "Environments not linked yet" in unknown.json()["detail"]

    maps = client.post(f"{base}/link/solutions", headers=admin).json()
    assert len(maps) == 9
    ran = client.post(
        f"{base}/maps/actions",
        json={"action": "run", "maps": [ACCOUNTS], "initial_sync": True},
        headers=admin,
    )
    assert ran.status_code == 200
    assert {m["name"]: m["state"] for m in ran.json()}[ACCOUNTS] == "Initializing"
    worker = Worker(store)
    for _ in range(4):
        worker.tick()
    worker.close()
    shown = client.get(f"{base}/maps/{ACCOUNTS}", headers=admin).json()
    assert shown["state"] == "Running"
    bad = client.post(
        f"{base}/maps/actions", json={"action": "resume", "maps": [ACCOUNTS]}, headers=admin
    )
    assert (bad.status_code, bad.json()["code"]) == (409, "DW5001")
    assert "pause, stop" in bad.json()["hint"]
    wrong = client.post(
        f"{base}/maps/actions", json={"action": "explode", "maps": [ACCOUNTS]}, headers=admin
    )
    assert wrong.status_code == 422
    assert client.get(f"{base}/errors", headers=admin).json() == []
    retried = client.post(f"{base}/errors/retry", params={"map": ACCOUNTS}, headers=admin).json()
    assert retried == {"fixed": 0, "still_failing": 0}


def test_field_mappings_and_transforms(
    client: TestClient, login: Login, store: ControlStore
) -> None:
    admin = login("admin")
    _setup(client, admin, store)
    base = "/api/v1/environments/contoso-test"
    link = {"dataverse_environment": "Sales", "legal_entities": ["USMF"], "consent": True}
    assert client.post(f"{base}/link", json=link, headers=admin).status_code == 201
    client.post(f"{base}/link/solutions", headers=admin)
    fields = client.get(f"{base}/maps/{ACCOUNTS}/fields", headers=admin).json()
    assert [f["kind"] for f in fields][:2] == ["key", "company"]
    onhold = next(f for f in fields if f["dataverse"] == "creditonhold")
    assert onhold["value_map"] == [["No", "false"], ["Yes", "true"]]
    assert (onhold["unmatched_dataverse"], onhold["unmatched_fo"]) == ("true", "No")

    url = f"{base}/maps/{ACCOUNTS}/fields/creditlimit/transform"
    # JSON numbers are taken as their text and typed by the column again
    saved = client.put(url, json={"default": 250}, headers=admin)
    assert saved.status_code == 200, saved.text
    assert (saved.json()["transform"], saved.json()["edited"]) == ("default 250", True)
    wrong = client.put(url, json={"default": "plenty"}, headers=admin)
    assert (wrong.status_code, wrong.json()["code"]) == (422, "DW1000")
    assert wrong.json()["detail"].startswith("creditlimit: default: 'plenty' is not a number")
    reset = client.delete(url, headers=admin)
    assert (reset.json()["transform"], reset.json()["edited"]) == ("default 0", False)
    unknown = client.get(f"{base}/maps/Nope/fields", headers=admin)
    assert (unknown.status_code, unknown.json()["code"]) == (404, "DW5005")
