"""Pages of the token service's things: registered applications on the Power Platform admin
page (a new secret shown once), the API URLs and application users on environments' pages."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dualwrite.api.app import create_app
from dualwrite.control.store import ControlStore
from dualwrite.settings import Settings
from factories import PASSWORD
from tokenworld import TokenWorld, build

SignIn = Callable[[str], str]  # signs the browser in, gives the page's CSRF token


@pytest.fixture
def tw(store: ControlStore, settings: Settings, tmp_path: Path) -> TokenWorld:
    return build(store, settings, tmp_path)


@pytest.fixture
def browser(settings: Settings, store: ControlStore, tw: TokenWorld) -> Iterator[TestClient]:
    app = create_app(settings, store)
    with TestClient(app, base_url="https://127.0.0.1:8443", follow_redirects=False) as client:
        yield client


@pytest.fixture
def sign_in(browser: TestClient) -> SignIn:
    def as_(upn: str) -> str:
        browser.cookies.clear()
        signed = browser.post("/api/v1/auth/login", json={"upn": upn, "password": PASSWORD})
        assert signed.status_code == 200, signed.text
        return str(signed.json()["csrf_token"])

    return as_


def _post(browser: TestClient, path: str, csrf: str, **form: str) -> str:
    answer = browser.post(
        path, data={"csrf_token": csrf, **form}, headers={"Sec-Fetch-Site": "same-origin"}
    )
    assert answer.status_code in (200, 303), answer.text
    return answer.text


def test_admins_register_rotate_and_delete_applications_on_the_admin_page(
    browser: TestClient, sign_in: SignIn, tw: TokenWorld
) -> None:
    csrf = sign_in(tw.contoso.admin)
    page = browser.get("/platform").text
    assert "Registered applications" in page and tw.contoso.client_id in page
    assert f"https://127.0.0.1:8443/{tw.contoso.directory_id}/oauth2/v2.0/token" in page
    assert "(dual-write: contoso-test)" in page
    made = _post(browser, "/platform/apps", csrf, display_name="Reporting")
    secret = re.search(r'<code class="secret">([^<]+)</code>', made)
    assert secret, made
    client_id = re.findall(r"New client secret of <code>([^<]+)</code>", made)[0]
    again = browser.get("/platform").text
    assert "Reporting" in again and secret.group(1) not in again  # shown that once
    rotated = _post(browser, f"/platform/apps/{client_id}/rotate", csrf)
    new = re.search(r'<code class="secret">([^<]+)</code>', rotated)
    assert new and new.group(1) != secret.group(1)
    _post(browser, f"/platform/apps/{client_id}/delete", csrf)
    assert client_id not in browser.get("/platform").text
    # The dual-write application's has no Delete button, and refuses a crafted post.
    assert f"/platform/apps/{tw.dualwrite_client_id}/delete" not in again
    refused = browser.post(
        f"/platform/apps/{tw.dualwrite_client_id}/delete",
        data={"csrf_token": csrf},
        headers={"Sec-Fetch-Site": "same-origin"},
    )
    assert refused.status_code == 409 and "DW3007" in refused.text


def test_a_plain_user_sees_no_applications(
    browser: TestClient, sign_in: SignIn, tw: TokenWorld
) -> None:
    csrf = sign_in(tw.user)
    page = browser.get("/platform").text
    assert "Registered applications" not in page and tw.contoso.client_id not in page
    refused = browser.post(
        "/platform/apps",
        data={"csrf_token": csrf, "display_name": "Mine"},
        headers={"Sec-Fetch-Site": "same-origin"},
    )
    assert refused.status_code == 403 and "DW3004" in refused.text


def test_environment_pages_show_their_api_and_application_users(
    browser: TestClient, sign_in: SignIn, tw: TokenWorld
) -> None:
    sign_in(tw.contoso.admin)
    fo = browser.get(f"/environments/{tw.contoso.fo_env}").text
    assert f"https://127.0.0.1:8443/environments/{tw.contoso.fo_env}/data/" in fo
    assert f"https://127.0.0.1:8443/environments/{tw.contoso.fo_env}/.default" in fo
    assert "Application users of the environment" in fo and tw.dualwrite_client_id in fo
    dataverse = browser.get(f"/platform/{tw.contoso.dataverse_id}").text
    assert f"https://127.0.0.1:8443/dataverse/{tw.contoso.dataverse_id}/api/data/v9.2/" in dataverse
    assert "Dual-write app user" in dataverse
