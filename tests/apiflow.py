"""Helpers for API tests: the setup path through the REST API, jobs run as the server would."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from dualwrite.control.store import ControlStore
from dualwrite.jobs.runner import run_pending

API = "/api/v1"


def finished_job(client: TestClient, store: ControlStore, headers: dict[str, str], job: Any) -> Any:
    """Run the queued jobs (as `dualwrite serve` would), then the job as the API shows it."""
    run_pending(store)
    env = job["environment"]
    response = client.get(f"{API}/environments/{env}/jobs/{job['id']}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def integrate(
    client: TestClient, store: ControlStore, headers: dict[str, str], env: str, dataverse: str
) -> None:
    """Power Platform integration with an existing Dataverse and the dual-write application,
    through the API, by a licensed environment manager and Dataverse admin."""
    base = f"{API}/environments/{env}"
    me = client.get(f"{API}/auth/me", headers=headers).json()
    body = {
        "use_existing": True,
        "platform_environment": dataverse,
        "confirm_name": me["display_name"],
    }
    queued = client.post(f"{base}/power-platform/setup", json=body, headers=headers)
    assert queued.status_code == 202, queued.text
    assert finished_job(client, store, headers, queued.json())["state"] == "succeeded"
    queued = client.post(
        f"{base}/dualwrite-application", json={"accept_terms": True}, headers=headers
    )
    assert queued.status_code == 202, queued.text
    assert finished_job(client, store, headers, queued.json())["state"] == "succeeded"
