"""Sign-in over the API: tokens, one generic failure, throttling, cookies with CSRF."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from dualwrite.api.app import create_app
from dualwrite.control.store import ControlStore
from dualwrite.settings import Settings
from factories import PASSWORD

UPN = "admin@contoso.onmicrosoft.com"


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


def test_the_session_cookie_is_secure_over_https(
    settings: Settings, store: ControlStore, world: None
) -> None:
    body = {"upn": UPN, "password": PASSWORD}
    with TestClient(create_app(settings, store), base_url="https://testserver") as client:
        cookie = client.post("/api/v1/auth/login", json=body).headers["set-cookie"]
    assert "secure" in cookie.lower()
    assert "path=/" in cookie.lower()


def test_cookie_sessions_learn_their_csrf_token_and_may_send_it_as_a_form_field(
    client: TestClient, world: None
) -> None:
    login = client.post("/api/v1/auth/login", json={"upn": UPN, "password": PASSWORD})
    assert "secure" not in login.headers["set-cookie"].lower()  # plain http in tests
    me = client.get("/api/v1/auth/me").json()
    assert me["csrf_token"] == login.json()["csrf_token"]
    refused = client.post("/api/v1/auth/logout")
    assert (refused.status_code, refused.json()["code"]) == (403, "DW3005")
    out = client.post("/api/v1/auth/logout", data={"csrf_token": me["csrf_token"]})
    assert out.status_code == 204
    assert 'dw_session=""' in out.headers["set-cookie"] or "Max-Age=0" in out.headers["set-cookie"]
    assert client.get("/api/v1/auth/me").status_code == 401


def test_a_token_only_works_the_way_it_was_issued(client: TestClient, world: None) -> None:
    bearer = client.post("/api/v1/auth/token", json={"upn": UPN, "password": PASSWORD})
    client.cookies.set("dw_session", bearer.json()["access_token"])
    assert client.get("/api/v1/auth/me").status_code == 401
    client.cookies.clear()
    client.post("/api/v1/auth/login", json={"upn": UPN, "password": PASSWORD})
    cookie = client.cookies["dw_session"]
    client.cookies.clear()
    response = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {cookie}"})
    assert response.status_code == 401


def test_browsers_may_sign_in_with_a_same_site_form(client: TestClient, world: None) -> None:
    form = {"upn": UPN, "password": PASSWORD}
    plain = client.post("/api/v1/auth/login", data=form)
    assert plain.status_code == 200, plain.text
    assert plain.json()["csrf_token"]
    same_site = {"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"}
    assert client.post("/api/v1/auth/login", data=form, headers=same_site).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [{"Origin": "https://evil.example"}, {"Origin": "null"}, {"Sec-Fetch-Site": "cross-site"}],
    ids=["other origin", "opaque origin", "cross-site fetch"],
)
def test_a_form_from_another_site_cannot_sign_the_browser_in(
    client: TestClient, world: None, headers: dict[str, str]
) -> None:
    form = {"upn": UPN, "password": PASSWORD}
    response = client.post("/api/v1/auth/login", data=form, headers=headers)
    assert (response.status_code, response.json()["code"]) == (403, "DW3005")
    assert "dw_session" not in response.headers.get("set-cookie", "")


@pytest.mark.parametrize(
    ("content", "content_type", "field"),
    [
        (b'{"upn": "x"}', "text/plain", "body"),
        (b"{not json", "application/json", "body"),
        (b'{"upn": "x"}', "application/json", "password"),
        (b"upn=x", "application/x-www-form-urlencoded", "password"),
    ],
)
def test_a_sign_in_body_that_is_not_credentials_is_dw1000(
    client: TestClient, world: None, content: bytes, content_type: str, field: str
) -> None:
    response = client.post(
        "/api/v1/auth/login", content=content, headers={"content-type": content_type}
    )
    assert (response.status_code, response.json()["code"]) == (422, "DW1000")
    assert response.json()["detail"].startswith(field)


def test_openapi_describes_both_sign_in_bodies(client: TestClient) -> None:
    root = client.get("/openapi.json", follow_redirects=False)  # served, not a redirect
    assert root.status_code == 200
    spec = root.json()
    assert spec == client.get("/api/v1/openapi.json").json()
    body = spec["paths"]["/api/v1/auth/login"]["post"]["requestBody"]["content"]
    assert set(body) == {"application/json", "application/x-www-form-urlencoded"}
    assert body["application/json"]["schema"]["$ref"] in (
        f"#/components/schemas/{name}" for name in spec["components"]["schemas"]
    )
