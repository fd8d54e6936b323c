"""The sign-in page: first-party cookie, login CSRF, the header showing who is signed in."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from dualwrite.api.app import create_app
from dualwrite.control.store import ControlStore
from dualwrite.settings import Settings
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


@pytest.mark.parametrize(
    ("keep_cookie", "field"),
    [(False, "token"), (True, ""), (True, "forged"), (True, "²"), (False, "")],
    ids=["no cookie", "no field", "mismatch", "not ascii", "neither"],
)
def test_sign_in_without_the_login_token_pair_is_refused(
    client: TestClient, world: None, keep_cookie: bool, field: str
) -> None:
    token = _form_token(client)
    if not keep_cookie:
        client.cookies.clear()
    data = {"upn": UPN, "password": PASSWORD, "login_csrf": token if field == "token" else field}
    response = client.post("/login", data=data, follow_redirects=False)
    assert response.status_code == 403
    assert "DW3005" in response.text
    assert "dw_session" not in response.headers.get("set-cookie", "")


@pytest.mark.parametrize(
    ("form", "headers"),
    [({"csrf_token": "²"}, {}), ({}, {"X-CSRF-Token": "é".encode("latin-1")})],
    ids=["form field", "header"],
)
def test_a_csrf_token_that_is_not_ascii_is_refused_like_any_other(
    client: TestClient, world: None, form: dict[str, str], headers: dict[str, bytes]
) -> None:
    """compare_digest refuses str with non-ASCII characters (TypeError): that was a 500."""
    data = {"upn": UPN, "password": PASSWORD, "login_csrf": _form_token(client)}
    client.post("/login", data=data)
    response = client.post("/logout", data=form, headers=headers, follow_redirects=False)
    assert response.status_code == 403
    assert "DW3005" in response.text
    assert client.get("/", follow_redirects=False).status_code == 200  # still signed in


def test_too_many_failures_hold_back_that_address_but_not_the_owner(
    client: TestClient, world: None, settings: Settings, store: ControlStore
) -> None:
    for _ in range(settings.login_max_failures):
        data = {"upn": UPN, "password": "not the password", "login_csrf": _form_token(client)}
        assert client.post("/login", data=data).status_code == 401
    data = {"upn": UPN, "password": PASSWORD, "login_csrf": _form_token(client)}
    response = client.post("/login", data=data, follow_redirects=False)
    assert response.status_code == 429
    assert "Too many failed sign-ins from this address." in response.text
    # The account's owner, from another address, signs in with the form and over the API.
    app = client.app
    with TestClient(app, client=("203.0.113.7", 50000)) as owner:  # type: ignore[arg-type]
        data = {"upn": UPN, "password": PASSWORD, "login_csrf": _form_token(owner)}
        assert owner.post("/login", data=data, follow_redirects=False).status_code == 303
        token = owner.post("/api/v1/auth/token", json={"upn": UPN, "password": PASSWORD})
        assert token.status_code == 200


def test_the_home_page_links_to_the_api_docs(client: TestClient, world: None) -> None:
    data = {"upn": UPN, "password": PASSWORD, "login_csrf": _form_token(client)}
    client.post("/login", data=data)
    home = client.get("/").text
    assert 'href="/docs"' in home
    assert 'href="/api/v1/openapi.json"' in home


def test_a_bearer_token_does_not_open_the_pages(
    client: TestClient, login: Callable[[str], dict[str, str]]
) -> None:
    response = client.get("/", headers=login("admin"), follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/login")


def test_an_unreachable_store_is_an_error_page_not_a_sign_in_loop(settings: Settings) -> None:
    store = ControlStore("postgresql+psycopg://postgres:s3cret@127.0.0.1:1/x")
    try:
        with TestClient(create_app(settings, store)) as client:
            client.cookies.set("dw_session", "some-session")
            response = client.get("/", follow_redirects=False)
    finally:
        store.dispose()
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("text/html")
    assert "DW2002" in response.text
    assert "s3cret" not in response.text
