"""Installation operators above tenants (issue "Security first", finding 2): a tenant's Global
administrator sees and changes only its tenant; creating tenants, seeing all of them and
restarting the shared sync worker are the operator's."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from dualwrite.control.store import ControlStore
from dualwrite.errors import DualWriteError
from dualwrite.identity.directory import get_user
from dualwrite.installation import operators
from factories import PASSWORD, bootstrap

FABRIKAM = "fabrikam.onmicrosoft.com"
NEW_TENANT = {
    "domain": "northwind.onmicrosoft.com",
    "display_name": "Northwind",
    "admin_upn": "admin@northwind.onmicrosoft.com",
    "admin_name": "Northwind Admin",
    "admin_password": PASSWORD,
}


@pytest.fixture
def two_tenants(store: ControlStore) -> None:
    with store.session() as session:
        bootstrap(session)  # contoso: its admin is the installation operator
        bootstrap(session, FABRIKAM)


def _token(client: TestClient, upn: str) -> dict[str, str]:
    signed = client.post("/api/v1/auth/token", json={"upn": upn, "password": PASSWORD})
    return {"Authorization": f"Bearer {signed.json()['access_token']}"}


def test_a_tenant_admin_governs_only_its_tenant(client: TestClient, two_tenants: None) -> None:
    admin = _token(client, f"admin@{FABRIKAM}")
    assert [t["domain"] for t in client.get("/api/v1/tenants", headers=admin).json()] == [FABRIKAM]
    other = client.get("/api/v1/tenants/contoso.onmicrosoft.com", headers=admin)
    assert (other.status_code, other.json()["code"]) == (404, "DW1002")
    for method, path, body in [
        ("PATCH", "/api/v1/tenants/contoso.onmicrosoft.com/settings", {"database_capacity_gb": 1}),
        ("GET", "/api/v1/tenants/contoso.onmicrosoft.com/capacity", None),
    ]:
        assert client.request(method, path, json=body, headers=admin).status_code == 404
    created = client.post("/api/v1/tenants", json=NEW_TENANT, headers=admin)
    assert (created.status_code, created.json()["code"]) == (403, "DW3004")
    assert "installation operator" in created.json()["detail"]
    restart = client.post("/api/v1/service-health/restart", headers=admin)
    assert (restart.status_code, restart.json()["code"]) == (403, "DW3004")
    me = client.get("/api/v1/auth/me", headers=admin).json()
    assert me["installation_operator"] is False


def test_the_operator_acts_installation_wide(client: TestClient, two_tenants: None) -> None:
    operator = _token(client, "admin@contoso.onmicrosoft.com")
    listed = client.get("/api/v1/tenants", headers=operator).json()
    assert [t["domain"] for t in listed] == ["contoso.onmicrosoft.com", FABRIKAM]
    assert client.get(f"/api/v1/tenants/{FABRIKAM}", headers=operator).status_code == 200
    assert client.post("/api/v1/tenants", json=NEW_TENANT, headers=operator).status_code == 201
    assert client.post("/api/v1/service-health/restart", headers=operator).status_code == 202
    # The new tenant's administrator governs Northwind only.
    northwind = _token(client, "admin@northwind.onmicrosoft.com")
    mine = client.get("/api/v1/tenants", headers=northwind).json()
    assert [t["domain"] for t in mine] == ["northwind.onmicrosoft.com"]


def test_operators_are_granted_by_operators_and_the_last_one_stays(
    store: ControlStore, two_tenants: None
) -> None:
    with store.session() as session:
        operator = get_user(session, "admin@contoso.onmicrosoft.com")
        fabrikam = get_user(session, f"admin@{FABRIKAM}")
        with pytest.raises(DualWriteError) as err:
            operators.grant_operator(session, fabrikam, fabrikam.upn)
        assert err.value.code == "DW3004"
        with pytest.raises(DualWriteError) as err:
            operators.revoke_operator(session, operator, operator.upn)
        assert "last operator" in err.value.message
        operators.grant_operator(session, operator, fabrikam.upn)
        assert [u.upn for u in operators.list_operators(session, fabrikam)] == [
            "admin@contoso.onmicrosoft.com",
            f"admin@{FABRIKAM}",
        ]
        operators.revoke_operator(session, fabrikam, operator.upn)
        assert not operator.is_operator
