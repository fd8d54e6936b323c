"""Tenants, users, roles and licenses over the API: who may do what."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

Login = Callable[[str], dict[str, str]]


def test_only_a_global_admin_creates_users(client: TestClient, login: Login) -> None:
    body = {
        "upn": "new@contoso.onmicrosoft.com",
        "display_name": "New",
        "password": "a long enough password",
    }
    refused = client.post("/api/v1/users", json=body, headers=login("joe"))
    assert refused.status_code == 403
    assert refused.json()["code"] == "DW3004"
    assert refused.json()["hint"]
    created = client.post("/api/v1/users", json=body, headers=login("admin"))
    assert created.status_code == 201
    assert created.json()["upn"] == "new@contoso.onmicrosoft.com"
    duplicate = client.post("/api/v1/users", json=body, headers=login("admin"))
    assert (duplicate.status_code, duplicate.json()["code"]) == (409, "DW1001")
    users = client.get("/api/v1/users", headers=login("admin")).json()
    assert [u["upn"] for u in users].count("new@contoso.onmicrosoft.com") == 1


@pytest.mark.parametrize(("alias", "status"), [("joe", 403), ("pat", 200), ("admin", 200)])
def test_tenant_settings_are_for_global_and_power_platform_admins(
    client: TestClient, login: Login, alias: str, status: int
) -> None:
    response = client.patch(
        "/api/v1/tenants/contoso.onmicrosoft.com/settings",
        json={"everyone_can_create_environments": False},
        headers=login(alias),
    )
    assert response.status_code == status
    capacity = client.get(
        "/api/v1/tenants/contoso.onmicrosoft.com/capacity", headers=login(alias)
    ).json()
    assert capacity == {"total_gb": 10.0, "used_gb": 0.0, "free_gb": 10.0}


def test_roles_and_licenses_round_trip(client: TestClient, login: Login) -> None:
    admin = login("admin")
    url = "/api/v1/users/joe@contoso.onmicrosoft.com"
    granted = client.post(f"{url}/roles", json={"role": "d365-service-admin"}, headers=admin)
    assert granted.json()["roles"] == ["Dynamics 365 Service administrator"]
    revoked = client.delete(f"{url}/roles/d365-service-admin", headers=admin)
    assert revoked.json()["roles"] == []
    licensed = client.post(f"{url}/licenses", json={"sku": "AX_ENTERPRISE"}, headers=admin)
    assert licensed.json()["licenses"] == ["AX_ENTERPRISE", "D365_FINANCE"]
    unknown = client.post(f"{url}/licenses", json={"sku": "NOPE"}, headers=admin)
    assert (unknown.status_code, unknown.json()["code"]) == (422, "DW1004")
    catalogue = client.get("/api/v1/licenses", headers=admin).json()
    assert sum(lic["qualifies_for_fo"] for lic in catalogue) == 7


TENANT = {
    "domain": "fabrikam.onmicrosoft.com",
    "display_name": "Fabrikam",
    "admin_upn": "admin@fabrikam.onmicrosoft.com",
    "admin_name": "Fabrikam Admin",
    "admin_password": "a long enough password",
}


def test_tenants_are_created_by_global_admins_once(client: TestClient, login: Login) -> None:
    admin = login("admin")
    refused = client.post("/api/v1/tenants", json=TENANT, headers=login("pat"))
    assert (refused.status_code, refused.json()["code"]) == (403, "DW3004")
    created = client.post("/api/v1/tenants", json=TENANT, headers=admin)
    assert created.status_code == 201, created.text
    before = client.get("/api/v1/tenants", headers=admin).json()
    again = {**TENANT, "admin_upn": "other@fabrikam.onmicrosoft.com"}
    duplicate = client.post("/api/v1/tenants", json=again, headers=admin)
    assert (duplicate.status_code, duplicate.json()["code"]) == (409, "DW1001")
    assert client.get("/api/v1/tenants", headers=admin).json() == before
    shown = client.get("/api/v1/tenants/fabrikam.onmicrosoft.com", headers=admin)
    assert shown.json()["display_name"] == "Fabrikam"


def test_a_user_from_the_list_can_be_shown(client: TestClient, login: Login) -> None:
    joe = login("joe")
    upns = [u["upn"] for u in client.get("/api/v1/users", headers=joe).json()]
    assert "pat@contoso.onmicrosoft.com" in upns
    pat = client.get("/api/v1/users/pat@contoso.onmicrosoft.com", headers=joe).json()
    assert pat["roles"] == ["Power Platform administrator"]
    missing = client.get("/api/v1/users/ghost@contoso.onmicrosoft.com", headers=joe)
    assert (missing.status_code, missing.json()["code"]) == (404, "DW1002")


def test_only_a_global_admin_grants_roles(client: TestClient, login: Login) -> None:
    url = "/api/v1/users/joe@contoso.onmicrosoft.com/roles"
    refused = client.post(url, json={"role": "global-admin"}, headers=login("joe"))
    assert (refused.status_code, refused.json()["code"]) == (403, "DW3004")
    unknown = client.post(url, json={"role": "emperor"}, headers=login("admin"))
    assert (unknown.status_code, unknown.json()["code"]) == (422, "DW1005")
    me = client.get("/api/v1/auth/me", headers=login("joe")).json()
    assert me["roles"] == []
