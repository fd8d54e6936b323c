"""The whole path of the seeds from a new tenant to running maps, through the REST API: the new
tenant's admin sets up Power Platform integration with a new Dataverse, the dual-write
application, links with the wizard (health check, consent), applies the solution and runs maps."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from apiflow import API, finished_job
from dualwrite.control.store import ControlStore
from dualwrite.engine.worker import Worker
from factories import PASSWORD

Login = Callable[[str], dict[str, str]]
FABRIKAM = "fabrikam.onmicrosoft.com"


def test_new_tenant_to_running_maps(client: TestClient, login: Login, store: ControlStore) -> None:
    tenant = {
        "domain": FABRIKAM,
        "display_name": "Fabrikam",
        "admin_upn": f"ada@{FABRIKAM}",
        "admin_name": "Ada Admin",
        "admin_password": PASSWORD,
    }
    assert client.post(f"{API}/tenants", json=tenant, headers=login("admin")).status_code == 201
    token = client.post(f"{API}/auth/token", json={"upn": f"ada@{FABRIKAM}", "password": PASSWORD})
    ada = {"Authorization": f"Bearer {token.json()['access_token']}"}
    licensed = client.post(
        f"{API}/users/ada@{FABRIKAM}/licenses", json={"sku": "AX_ENTERPRISE"}, headers=ada
    )
    assert licensed.status_code == 200, licensed.text
    assert client.post(f"{API}/projects", json={"name": "Go-live"}, headers=ada).status_code == 201
    env = {
        "name": "fabrikam-prod",
        "project": "Go-live",
        "type": "production",
        "legal_entities": ["FRRT"],
    }
    assert client.post(f"{API}/environments", json=env, headers=ada).status_code == 201
    base = f"{API}/environments/fabrikam-prod"

    checks = client.post(f"{base}/power-platform/validate", json={}, headers=ada).json()
    assert all(c["passed"] for c in checks), checks
    queued = client.post(
        f"{base}/power-platform/setup", json={"confirm_name": "Ada Admin"}, headers=ada
    )
    assert queued.status_code == 202 and queued.json()["state"] == "queued"
    job = finished_job(client, store, ada, queued.json())
    assert (job["state"], job["percent"], job["error"]) == ("succeeded", 100, None)
    section = client.get(f"{base}/power-platform", headers=ada).json()
    assert (section["platform_environment"], section["dataverse"]) == ("fabrikam-prod", True)

    queued = client.post(f"{base}/dualwrite-application", json={"accept_terms": True}, headers=ada)
    assert finished_job(client, store, ada, queued.json())["state"] == "succeeded"

    wizard = client.get(f"{API}/dualwrite/wizard", headers=ada).json()
    assert [e["name"] for e in wizard["environments"]] == ["fabrikam-prod"]
    assert "consent" in wizard["privacy_notice"]
    choice = {"dataverse_environment": "fabrikam-prod", "legal_entities": ["FRRT"]}
    health = client.post(f"{base}/link/health-check", json=choice, headers=ada).json()
    assert [c["passed"] for c in health] == [True] * 8
    no_consent = client.post(f"{base}/link", json=choice, headers=ada)
    assert (no_consent.status_code, no_consent.json()["code"]) == (422, "DW4023")
    link = client.post(f"{base}/link", json={**choice, "consent": True}, headers=ada)
    assert link.status_code == 201, link.text
    assert link.json()["notice"] is not None
    maps = client.post(f"{base}/link/solutions", headers=ada).json()
    assert len(maps) == 9
    ran = client.post(
        f"{base}/maps/actions",
        json={
            "action": "run",
            "maps": ["Customer groups (msdyn_customergroups)"],
            "initial_sync": True,
        },
        headers=ada,
    )
    assert ran.status_code == 200, ran.text
    worker = Worker(store)
    try:
        for _ in range(6):
            worker.tick()
    finally:
        worker.close()
    shown = client.get(f"{base}/maps/Customer groups (msdyn_customergroups)", headers=ada).json()
    assert shown["state"] == "Running"
    section = client.get(f"{base}/power-platform", headers=ada).json()
    assert section["linking"]["dualwrite_page"] == "/environments/fabrikam-prod/dualwrite"
    assert section["linking"]["warning"] is None
