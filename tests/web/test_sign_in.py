"""The sign-in page: first-party cookie, login CSRF, the header showing who is signed in."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from factories import PASSWORD

UPN = "admin@contoso.onmicrosoft.com"


def _form_token(client: TestClient) -> str:
    page = client.get("/login")
    assert page.status_code == 200
    assert '<label for="upn">' in page.text and '<label for="password">' in page.text
    match = re.search(r'name="login_csrf" value="([^"]+)"', page.text)
    assert match
    return match.group(1)


def test_anonymous_visitors_are_sent_to_sign_in(client: TestClient) -> None:
    response = client.get("/", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/login")


def test_signing_in_shows_user_tenant_and_roles(client: TestClient, world: None) -> None:
    token = _form_token(client)
    response = client.post(
        "/login",
        data={"upn": UPN, "password": PASSWORD, "login_csrf": token},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert "httponly" in response.headers["set-cookie"].lower()
    home = client.get("/")
    assert home.status_code == 200
    for text in ("Tenant Admin", UPN, "contoso.onmicrosoft.com", "Global administrator"):
        assert text in home.text

    csrf = re.search(r'name="csrf_token" value="([^"]+)"', home.text)
    assert csrf
    forged = client.post("/logout", data={"csrf_token": "forged"}, follow_redirects=False)
    assert forged.status_code == 403
    assert client.get("/", follow_redirects=False).status_code == 200
    out = client.post("/logout", data={"csrf_token": csrf.group(1)}, follow_redirects=False)
    assert out.status_code == 303
    assert client.get("/", follow_redirects=False).status_code == 303


def test_wrong_password_shows_the_catalogue_message(client: TestClient, world: None) -> None:
    token = _form_token(client)
    response = client.post(
        "/login", data={"upn": UPN, "password": "not the password", "login_csrf": token}
    )
    assert response.status_code == 401
    assert "The user name or password is incorrect." in response.text
    assert 'value="admin@contoso.onmicrosoft.com"' in response.text


def test_sign_in_without_the_login_token_is_refused(client: TestClient, world: None) -> None:
    response = client.post("/login", data={"upn": UPN, "password": PASSWORD, "login_csrf": "x"})
    assert response.status_code == 403
    assert "DW3005" in response.text
    assert "dw_session" not in response.headers.get("set-cookie", "")
