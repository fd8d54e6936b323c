"""Every route: anonymous callers are refused; roles decide; bad input changes nothing."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from dualwrite.api.app import create_app
from dualwrite.settings import Settings

Login = Callable[[str], dict[str, str]]
PUBLIC = {"/api/v1/health", "/api/v1/auth/token", "/api/v1/auth/login"}


def _api_routes(settings: Settings) -> list[tuple[str, str]]:
    paths = create_app(settings).openapi()["paths"]
    return [(method.upper(), path) for path, ops in paths.items() for method in sorted(ops)]


def test_every_private_route_refuses_anonymous_callers(
    client: TestClient, settings: Settings
) -> None:
    routes = _api_routes(settings)
    assert len(routes) >= 25
    for method, path in routes:
        if path in PUBLIC:
            continue
        url = re.sub(r"\{[^}]+\}", "x", path)
        response = client.request(method, url, json={})
        assert response.status_code == 401, (method, path, response.text)
        assert response.json()["code"] == "DW3003"


def test_openapi_documents_every_route(client: TestClient, settings: Settings) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    assert len(spec["paths"]) >= 20
    for path, ops in spec["paths"].items():
        assert path.startswith("/api/v1/")
        for op in ops.values():
            assert op["summary"], path
    docs = client.get("/docs").text
    assert "/static/swagger/swagger-ui-bundle.js" in docs
    assert "cdn" not in docs.lower()
    assert client.get("/static/swagger/swagger-ui-bundle.js").status_code == 200


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


def test_environment_deploy_and_detail(client: TestClient, login: Login) -> None:
    admin, joe = login("admin"), login("joe")
    client.post("/api/v1/projects", json={"name": "Rollout"}, headers=admin)
    client.post(
        "/api/v1/projects/Rollout/members",
        json={"upn": "joe@contoso.onmicrosoft.com", "role": "team-member"},
        headers=admin,
    )
    body = {"name": "contoso-test", "project": "Rollout", "legal_entities": ["USMF", "DEMF"]}
    refused = client.post("/api/v1/environments", json=body, headers=joe)
    assert (refused.status_code, refused.json()["code"]) == (403, "DW3004")
    created = client.post("/api/v1/environments", json=body, headers=admin)
    assert created.status_code == 201, created.text
    assert created.json()["geography"] == "United States"
    detail = client.get("/api/v1/environments/contoso-test", headers=joe).json()
    assert [e["id"] for e in detail["legal_entities"]] == ["DEMF", "USMF"]
    assert detail["row_counts"]["legalentities"] == 2
    initial = detail["power_platform_environment"]
    pp = client.get(f"/api/v1/platform/environments/{initial}", headers=admin).json()
    assert (pp["initial"], pp["dataverse"], pp["fo_environment"]) == (True, False, "contoso-test")


@pytest.mark.parametrize(
    ("change", "code", "status"),
    [
        ({"region": "Atlantis"}, "DW1003", 422),
        ({"data_store_url": "oracle://x/y"}, "DW2001", 422),
        ({"data_store_url": "postgresql+psycopg://postgres@127.0.0.1:1/x"}, "DW2002", 503),
        ({"name": 42}, "DW1000", 422),
        ({"legal_entities": "USMF"}, "DW1000", 422),
    ],
)
def test_bad_environment_input_changes_nothing(
    client: TestClient, login: Login, change: dict[str, object], code: str, status: int
) -> None:
    admin = login("admin")
    client.post("/api/v1/projects", json={"name": "Rollout"}, headers=admin)
    body = {"name": "contoso-test", "project": "Rollout", **change}
    response = client.post("/api/v1/environments", json=body, headers=admin)
    assert (response.status_code, response.json()["code"]) == (status, code)
    problem = response.json()
    assert set(problem) >= {"type", "title", "status", "code", "detail", "hint"}
    assert client.get("/api/v1/environments", headers=admin).json() == []
    assert client.get("/api/v1/platform/environments", headers=admin).json() == []


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
