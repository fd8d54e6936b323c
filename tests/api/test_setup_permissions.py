"""Authorization matrix over every route of the setup flows (issue: seeds 000-003), for each
role: anonymous, plain user, dual-write user, environment admin, tenant admin.

A request is *denied* when it is refused for who sent it (401, 403, not visible = 404, or a
seed 003 permission validation); any other answer means it got past authorization (it may still
fail on the state of things, e.g. "not set up yet"). Requests are chosen so that an allowed one
changes nothing that a later one depends on; the one destructive route runs last."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from dualwrite.control.store import ControlStore
from dualwrite.lifecycle import dualwrite_app, environments, ppi
from dualwrite.lifecycle.environments import EnvironmentSpec
from dualwrite.link import links, wizard
from dualwrite.platform import environments as platform
from dualwrite.settings import Settings
from factories import PASSWORD, add_user
from setup_world import setup_world

ROLES = ("anonymous", "plain", "dualwrite", "envadmin", "tenantadmin")
ALIAS = {"plain": "joe", "dualwrite": "dw", "envadmin": "em", "tenantadmin": "admin"}
PERMISSION_CODES = {"DW3003", "DW3004", "DW9401", "DW9403", "DW1002"} | {
    f"DW40{n}" for n in ("03", "11", "12", "13", "14", "15")
}
FRESH = "/api/v1/environments/contoso-test"  # Power Platform integration not set up yet
LINKED = "/api/v1/environments/contoso-linked"  # set up, linked, default maps published
EVERYONE = {"plain", "dualwrite", "envadmin", "tenantadmin"}
VIEWERS = {"dualwrite", "envadmin", "tenantadmin"}
MANAGERS = {"envadmin", "tenantadmin"}
ADMINS = {"tenantadmin"}

# (method, path, body, roles that get past authorization)
ROUTES: list[tuple[str, str, Any, set[str]]] = [
    ("GET", f"{FRESH}/power-platform", None, VIEWERS),
    ("POST", f"{FRESH}/power-platform/validate", {}, VIEWERS),
    ("POST", f"{FRESH}/power-platform/setup", {}, MANAGERS),  # no typed name: DW4005
    ("GET", f"{FRESH}/dualwrite-application/terms", None, VIEWERS),
    ("POST", f"{FRESH}/dualwrite-application", {"accept_terms": True}, MANAGERS),  # DW4021
    ("POST", f"{FRESH}/power-platform/link", None, MANAGERS),  # DW4021: not set up
    ("GET", f"{FRESH}/jobs", None, VIEWERS),
    ("GET", f"{LINKED}/users", None, VIEWERS),
    ("PUT", f"{LINKED}/users", {"upn": "dw@contoso.onmicrosoft.com"}, MANAGERS),
    ("DELETE", f"{LINKED}/users/joe@contoso.onmicrosoft.com", None, MANAGERS),
    (
        "PATCH",
        f"{LINKED}/application-users/dataverse",
        {"security_role": "Dual-write app user"},
        MANAGERS,
    ),
    ("POST", f"{LINKED}/application-users/fix", {}, ADMINS),  # nothing to fix: no change
    ("GET", "/api/v1/dualwrite/wizard", None, EVERYONE),
    ("GET", "/api/v1/service-health", None, EVERYONE),
    ("POST", "/api/v1/service-health/restart", None, ADMINS),
    (
        "POST",
        f"{LINKED}/link/health-check",
        {"dataverse_environment": "Sales", "legal_entities": ["USMF"]},
        VIEWERS,
    ),
    (
        "POST",
        f"{LINKED}/link",
        {"dataverse_environment": "Sales", "legal_entities": ["USMF"], "consent": True},
        ADMINS,  # DW5010 for the admin: already linked
    ),
    ("GET", f"{LINKED}/link", None, VIEWERS),
    ("POST", f"{LINKED}/link/solutions", None, ADMINS),
    ("POST", f"{LINKED}/maps", {"source": "ours.toml", "definition": "[broken"}, ADMINS),
    ("GET", f"{LINKED}/maps", None, VIEWERS),
    (
        "POST",
        f"{LINKED}/maps/actions",
        {"action": "pause", "maps": ["Currencies (transactioncurrencies)"]},  # DW5001
        VIEWERS,
    ),
    ("GET", f"{LINKED}/errors", None, VIEWERS),
    ("GET", f"{LINKED}/errors/999", None, VIEWERS),  # DW5013 once allowed: no such error
    ("GET", f"{LINKED}/maps/Currencies (transactioncurrencies)/initial-sync", None, VIEWERS),
    (
        "POST",
        f"{LINKED}/maps/Currencies (transactioncurrencies)/initial-sync/rerun",
        None,
        VIEWERS,  # DW1000 once allowed: no execution yet
    ),
    (
        "PATCH",
        f"{LINKED}/maps/Currencies (transactioncurrencies)/fields",
        {"dataverse_field": "nope", "direction": "both"},  # DW1000 once allowed
        VIEWERS,
    ),
    ("GET", f"{LINKED}/maps/Currencies (transactioncurrencies)/fields", None, VIEWERS),
    (
        "PUT",
        f"{LINKED}/maps/Currencies (transactioncurrencies)/fields/nope/transform",
        {"default": "x"},  # DW1000 once allowed: no such field
        VIEWERS,
    ),
    (
        "DELETE",
        f"{LINKED}/maps/Currencies (transactioncurrencies)/fields/nope/transform",
        None,
        VIEWERS,
    ),
    (
        "POST",
        f"{LINKED}/errors/999/discard",
        {"map": "Currencies (transactioncurrencies)", "reason": " "},  # DW1000 once allowed
        VIEWERS,
    ),
    ("GET", f"{LINKED}/activity", None, VIEWERS),
    ("GET", f"{LINKED}/alerts", None, VIEWERS),
    (
        "PUT",
        f"{LINKED}/maps/Currencies (transactioncurrencies)/alert",
        {"max_errors": 5, "window_minutes": 10, "action": "notify"},
        VIEWERS,  # operators: the Dual-write user too
    ),
    ("DELETE", f"{LINKED}/maps/Vendors V2 (msdyn_vendors)/alert", None, VIEWERS),
    (
        "POST",
        f"{LINKED}/maps/force-stop",
        {"maps": ["Currencies (transactioncurrencies)"], "reason": "matrix"},  # already stopped
        ADMINS,
    ),
    ("DELETE", f"{LINKED}/link", None, ADMINS),  # the only destructive one: last
]


def _world(store: ControlStore, settings: Settings) -> None:
    w = setup_world(store, settings)
    with store.session() as session:
        admin = w.user(session, "admin")
        dw = add_user(session, admin, "dw")
        project = w.env(session).project
        spec = EnvironmentSpec(name="contoso-linked", legal_entities=["USMF"])
        env = environments.deploy_environment(session, settings, admin, project, spec)
        target = platform.create_environment(
            session,
            settings,
            admin,
            name="Sales",
            region="West US",
            dataverse=True,
            dataverse_url=None,
        )
        platform.add_admin(session, admin, target, "em@contoso.onmicrosoft.com")
        ppi.integrate(session, env, target)
        dualwrite_app.install(session, env, target)
        link = wizard.create_link(session, admin, env, target, ["USMF"], consent=True)
        links.apply_default_solutions(session, admin, link)
        for name in ("contoso-test", "contoso-linked"):
            environments.grant_environment_role(
                session, admin, w.env(session, name), dw.upn, "dualwrite-user"
            )


def _headers(client: TestClient, role: str) -> dict[str, str]:
    if role == "anonymous":
        return {}
    upn = f"{ALIAS[role]}@contoso.onmicrosoft.com"
    token = client.post("/api/v1/auth/token", json={"upn": upn, "password": PASSWORD})
    assert token.status_code == 200, token.text
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


def _denied(response: Any) -> bool:
    if response.status_code in (401, 403):
        return True
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("code") in PERMISSION_CODES


@pytest.fixture
def world_client(store: ControlStore, settings: Settings, client: TestClient) -> TestClient:
    _world(store, settings)
    return client


def test_authorization_matrix(world_client: TestClient) -> None:
    client = world_client
    outcomes: dict[tuple[str, str], str] = {}
    for role in ROLES:
        headers = _headers(client, role)
        for method, path, body, allowed in ROUTES:
            response = client.request(method, path, json=body, headers=headers)
            assert response.status_code < 500, (role, method, path, response.text)
            if role == "anonymous":
                assert (response.status_code, response.json()["code"]) == (401, "DW3003")
            expected = "allowed" if role in allowed else "denied"
            got = "denied" if _denied(response) else "allowed"
            outcomes[(role, f"{method} {path}")] = got
            assert got == expected, (role, method, path, response.status_code, response.text)
    assert len(outcomes) == len(ROLES) * len(ROUTES)


def test_seed_002_messages_over_the_api(world_client: TestClient) -> None:
    client = world_client
    em = _headers(client, "envadmin")
    forbidden = client.post(f"{LINKED}/link/solutions", headers=em)
    body = forbidden.json()
    assert (forbidden.status_code, body["code"]) == (403, "DW9403")
    lines = body["detail"].split("\n")
    assert lines[0] == "Response status code does not indicate success: 403 (tokenexchange)."
    assert lines[1].startswith("Session ID: ") and lines[2].startswith("Root activity ID: ")
    again = client.post(f"{LINKED}/link/solutions", headers=em).json()["detail"].split("\n")
    assert again[1] == lines[1] and again[2] != lines[2]  # same sign-in, new activity
    unauthorized = client.post(
        f"{LINKED}/maps", json={"source": "ours.toml", "definition": ""}, headers=em
    )
    assert (unauthorized.status_code, unauthorized.json()["detail"]) == (
        401,
        "Response status code does not indicate success: 401 (Unauthorized).",
    )


def test_fixing_application_users_from_the_health_check(world_client: TestClient) -> None:
    client = world_client
    em, admin = _headers(client, "envadmin"), _headers(client, "tenantadmin")
    disabled = client.patch(
        f"{LINKED}/application-users/dataverse", json={"enabled": False}, headers=em
    )
    assert disabled.status_code == 200, disabled.text
    body = {"dataverse_environment": "Sales", "legal_entities": ["USMF"]}
    checks = client.post(f"{LINKED}/link/health-check", json=body, headers=admin).json()
    failed = next(
        c for c in checks if c["name"] == "Application IDs granted access to connect the apps"
    )
    assert failed["code"] == "DW9003"
    assert failed["fix_url"] == (
        "/environments/contoso-linked/application-users?dataverse=Sales&legal_entities=USMF"
    )
    refused = client.post(f"{LINKED}/application-users/fix", json={}, headers=em)
    assert (refused.status_code, refused.json()["code"]) == (403, "DW3004")
    fixed = client.post(
        f"{LINKED}/application-users/fix", json={"dataverse_environment": "Sales"}, headers=admin
    )
    assert fixed.status_code == 200, fixed.text
    assert {(u["side"], u["enabled"]) for u in fixed.json()} == {("fo", True), ("dataverse", True)}
    checks = client.post(f"{LINKED}/link/health-check", json=body, headers=admin).json()
    assert next(c for c in checks if c["name"] == failed["name"])["passed"]
