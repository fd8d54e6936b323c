"""Power Platform environments, their admins and regions over the API."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

Login = Callable[[str], dict[str, str]]


def test_power_platform_environment_with_dataverse(client: TestClient, login: Login) -> None:
    admin, pat = login("admin"), login("pat")
    created = client.post(
        "/api/v1/platform/environments",
        json={"name": "Field Service", "region": "West US"},
        headers=pat,
    )
    assert created.status_code == 201, created.text
    env = created.json()
    assert (env["dataverse"], env["geography"], env["admins"]) == (
        True,
        "United States",
        ["pat@contoso.onmicrosoft.com"],
    )
    added = client.post(
        f"/api/v1/platform/environments/{env['id']}/admins",
        json={"upn": "joe@contoso.onmicrosoft.com"},
        headers=admin,
    )
    assert "joe@contoso.onmicrosoft.com" in added.json()["admins"]
    regions = client.get("/api/v1/regions", headers=admin).json()
    assert {"name": "West US", "geography": "United States"} in regions


@pytest.mark.parametrize(
    ("change", "code", "status"),
    [
        ({"region": "Atlantis"}, "DW1003", 422),
        ({"dataverse_url": "nosuchdb://x"}, "DW2001", 422),
        ({"dataverse_url": "postgresql+psycopg://postgres@127.0.0.1:1/x"}, "DW2002", 503),
    ],
)
def test_bad_platform_input_changes_nothing(
    client: TestClient, login: Login, change: dict[str, object], code: str, status: int
) -> None:
    admin = login("admin")
    response = client.post(
        "/api/v1/platform/environments", json={"name": "Sales", **change}, headers=admin
    )
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert client.get("/api/v1/platform/environments", headers=admin).json() == []


def test_platform_environment_names_are_unique(client: TestClient, login: Login) -> None:
    admin = login("admin")
    body = {"name": "Sales", "dataverse": False}
    assert client.post("/api/v1/platform/environments", json=body, headers=admin).is_success
    duplicate = client.post("/api/v1/platform/environments", json=body, headers=admin)
    assert (duplicate.status_code, duplicate.json()["code"]) == (409, "DW1001")
    assert len(client.get("/api/v1/platform/environments", headers=admin).json()) == 1
