"""Sign-in over the API: tokens, one generic failure, throttling, cookies with CSRF."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from dualwrite.settings import Settings
from factories import PASSWORD

UPN = "admin@contoso.onmicrosoft.com"


def test_health_answers_without_sign_in(client: TestClient) -> None:
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["schema_revision"] is not None


def test_token_sign_in_and_me(client: TestClient, login: Callable[[str], dict[str, str]]) -> None:
    me = client.get("/api/v1/auth/me", headers=login("admin")).json()
    assert me["upn"] == UPN
    assert me["roles"] == ["Global administrator"]
    assert me["tenant"] == "contoso.onmicrosoft.com"
    assert me["csrf_token"] is None


def test_wrong_password_and_unknown_user_look_the_same(client: TestClient, world: None) -> None:
    wrong = client.post("/api/v1/auth/token", json={"upn": UPN, "password": "nope-nope-nope"})
    unknown = client.post(
        "/api/v1/auth/token", json={"upn": "ghost@contoso.onmicrosoft.com", "password": "x"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.headers["content-type"] == "application/problem+json"
    assert wrong.json() == unknown.json()
    assert wrong.json()["code"] == "DW3001"


def test_throttling_refuses_even_the_right_password(
    client: TestClient, world: None, settings: Settings
) -> None:
    for _ in range(settings.login_max_failures):
        client.post("/api/v1/auth/token", json={"upn": UPN, "password": "wrong-password"})
    response = client.post("/api/v1/auth/token", json={"upn": UPN, "password": PASSWORD})
    assert response.status_code == 429
    assert response.json()["code"] == "DW3002"


def test_cookie_session_needs_csrf_for_writes_but_bearer_does_not(
    client: TestClient, login: Callable[[str], dict[str, str]]
) -> None:
    response = client.post("/api/v1/auth/login", json={"upn": UPN, "password": PASSWORD})
    assert response.status_code == 200
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "samesite=lax" in cookie.lower()
    csrf = response.json()["csrf_token"]

    assert client.get("/api/v1/projects").status_code == 200  # reads need no token
    refused = client.post("/api/v1/projects", json={"name": "Rollout"})
    assert refused.status_code == 403
    assert refused.json()["code"] == "DW3005"
    forged = client.post(
        "/api/v1/projects", json={"name": "Rollout"}, headers={"X-CSRF-Token": "x"}
    )
    assert forged.status_code == 403
    created = client.post(
        "/api/v1/projects", json={"name": "Rollout"}, headers={"X-CSRF-Token": csrf}
    )
    assert created.status_code == 201

    client.cookies.clear()
    bearer = client.post("/api/v1/projects", json={"name": "Other"}, headers=login("admin"))
    assert bearer.status_code == 201


def test_logout_revokes_the_token(
    client: TestClient, login: Callable[[str], dict[str, str]]
) -> None:
    headers = login("admin")
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    response = client.get("/api/v1/auth/me", headers=headers)
    assert response.status_code == 401
    assert response.json()["code"] == "DW3003"
    assert response.headers["www-authenticate"] == "Bearer"
