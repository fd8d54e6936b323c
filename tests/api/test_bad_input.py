"""Bad input found by an attacker-style test: huge integers, unknown names and bad enum values
are refused with the catalogue's 4xx (API: problem details, pages: the error page), never 500."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from dualwrite.api.app import create_app
from dualwrite.control.store import ControlStore
from dualwrite.settings import Settings
from factories import PASSWORD, bootstrap, linked_world, settings_for

UPN = "admin@contoso.onmicrosoft.com"
MAP = quote("Customers V3 (accounts)")
API = "/api/v1/environments/contoso-test"
PAGES = "/environments/contoso-test/dualwrite"
HUGE = "99999999999999999999"  # past the 64-bit range SQLite's driver takes
JUST_PAST = str(2**63)


@pytest.fixture
def signed_in(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """A linked world; the client holds a browser session, the headers a bearer token."""
    settings = settings_for(tmp_path)
    store = ControlStore(settings.control_url)
    store.upgrade()
    with store.session() as session:
        fo, dv = (f"sqlite:///{tmp_path / name}" for name in ("fo.db", "dv.db"))
        linked_world(session, settings, fo, dv)
    credentials = {"upn": UPN, "password": PASSWORD}
    with TestClient(create_app(settings, store)) as client:
        token = client.post("/api/v1/auth/token", json=credentials).json()["access_token"]
        assert client.post("/api/v1/auth/login", json=credentials).status_code == 200
        yield client, {"Authorization": f"Bearer {token}"}
    store.dispose()


@pytest.mark.parametrize(
    ("method", "url", "status", "code"),
    [
        ("GET", f"{API}/errors?map=nope", 404, "DW5005"),
        ("GET", f"{API}/errors/{HUGE}", 422, "DW1000"),
        ("GET", f"{API}/errors/{JUST_PAST}", 422, "DW1000"),
        ("GET", f"{API}/errors/1?direction=sideways", 422, "DW1000"),
        ("POST", f"{API}/errors/{HUGE}/discard", 422, "DW1000"),
        ("POST", f"{API}/errors/retry?map={MAP}&id={HUGE}", 422, "DW1000"),
        ("GET", f"{API}/jobs/{HUGE}", 422, "DW1000"),
        ("GET", f"{API}/jobs/-{HUGE}", 422, "DW1000"),
        ("GET", f"{API}/jobs?limit=0", 422, "DW1000"),
        ("GET", f"{API}/jobs?limit={HUGE}", 422, "DW1000"),
        ("GET", f"{API}/activity?before={HUGE}", 422, "DW1000"),
        ("GET", f"{API}/activity?limit={HUGE}", 422, "DW1000"),
        ("GET", f"{API}/maps/{MAP}/queue?after={HUGE}", 422, "DW1000"),
        ("GET", f"{API}/maps/{MAP}/queue?limit=1001", 422, "DW1000"),
    ],
)
def test_the_api_refuses_bad_input_with_a_problem(
    signed_in: tuple[TestClient, dict[str, str]], method: str, url: str, status: int, code: str
) -> None:
    client, headers = signed_in
    body = {"map": "Customers V3 (accounts)", "reason": "fuzz"} if "discard" in url else None
    response = client.request(method, url, headers=headers, json=body)
    assert (response.status_code, response.json()["code"]) == (status, code), response.text
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "url",
    [
        f"{PAGES}/maps/{MAP}?after={HUGE}",
        f"{PAGES}/maps/{MAP}?before={HUGE}",
        f"{PAGES}/errors/{HUGE}",
        f"{PAGES}/errors/{JUST_PAST}",
    ],
)
def test_pages_refuse_bad_input_with_the_error_page(
    signed_in: tuple[TestClient, dict[str, str]], url: str
) -> None:
    client, _headers = signed_in
    response = client.get(url)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert "DW1000" in response.text


def test_the_openapi_description_shows_the_bounds(
    signed_in: tuple[TestClient, dict[str, str]],
) -> None:
    client, _headers = signed_in
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    (error_id,) = paths["/api/v1/environments/{env}/errors/{error_id}"]["get"]["parameters"][1:2]
    assert (error_id["schema"]["minimum"], error_id["schema"]["maximum"]) == (0, 2**63 - 1)
    queue = paths["/api/v1/environments/{env}/maps/{name}/queue"]["get"]["parameters"]
    limit = next(p for p in queue if p["name"] == "limit")
    assert (limit["schema"]["minimum"], limit["schema"]["maximum"]) == (1, 1000)


TENANT = "/api/v1/tenants/contoso.onmicrosoft.com"


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("PUT", f"{API}/maps/{MAP}/limits", '{"max_age_seconds": 9223372036854775808}'),
        ("PUT", f"{API}/maps/{MAP}/limits", '{"max_age_seconds": 2147483648}'),  # INTEGER
        ("PUT", f"{API}/maps/{MAP}/limits", '{"max_bytes": 9223372036854775808}'),
        (
            "PUT",
            f"{API}/maps/{MAP}/alert",
            '{"max_errors": 9223372036854775808, "window_minutes": 5, "action": "pause"}',
        ),
        # The alert monitor looks back `window_minutes` from now: past datetime's range it died.
        (
            "PUT",
            f"{API}/maps/{MAP}/alert",
            '{"max_errors": 5, "window_minutes": 2000000000, "action": "pause"}',
        ),
        ("PATCH", f"{TENANT}/settings", '{"database_capacity_gb": NaN}'),
        ("PATCH", f"{TENANT}/settings", '{"database_capacity_gb": Infinity}'),
        ("PATCH", f"{TENANT}/settings", '{"database_capacity_gb": 1e999}'),
    ],
)
def test_bodies_out_of_range_are_refused_and_nothing_is_kept(
    signed_in: tuple[TestClient, dict[str, str]], method: str, url: str, body: str
) -> None:
    client, headers = signed_in
    headers = {**headers, "content-type": "application/json"}
    before = client.get(TENANT, headers=headers).json(), client.get(f"{API}/maps", headers=headers)
    response = client.request(method, url, content=body, headers=headers)
    assert (response.status_code, response.json()["code"]) == (422, "DW1000"), response.text
    after = client.get(TENANT, headers=headers), client.get(f"{API}/maps", headers=headers)
    assert after[0].status_code == 200 and after[0].json() == before[0]
    assert after[1].json() == before[1].json()
    assert client.get(f"{API}/alerts", headers=headers).json() == []


@pytest.mark.parametrize(
    ("url", "form"),
    [
        ("/platform/settings", {"capacity_gb": "nan"}),
        ("/platform/settings", {"capacity_gb": "inf"}),
        (f"{PAGES}/maps/{MAP}/alert", {"max_errors": "5", "window_minutes": "2000000000"}),
        (f"{PAGES}/maps/{MAP}/alert", {"max_errors": HUGE, "window_minutes": "5"}),
    ],
)
def test_forms_out_of_range_show_the_error_page(
    signed_in: tuple[TestClient, dict[str, str]], url: str, form: dict[str, str]
) -> None:
    client, headers = signed_in
    csrf = client.get("/api/v1/auth/me").json()["csrf_token"]
    response = client.post(url, data={**form, "csrf_token": csrf}, follow_redirects=False)
    assert response.status_code == 422, response.text
    assert "DW1000" in response.text
    assert client.get(TENANT, headers=headers).json()["database_capacity_gb"] == 10.0
    assert client.get(f"{API}/alerts", headers=headers).json() == []


@pytest.fixture
def control_on_backend(database_url: str, tmp_path: Path) -> Iterator[TestClient]:
    """A control store on the parametrized backend with one tenant and its admin."""
    settings = Settings(home=tmp_path / "home", database_url=database_url)
    store = ControlStore(settings.control_url)
    store.upgrade()
    with store.session() as session:
        bootstrap(session)
    with TestClient(create_app(settings, store)) as client:
        yield client
    store.dispose()


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("POST", "/api/v1/auth/token", {"upn": f"ad\x00min@{UPN.split('@')[1]}", "password": "x"}),
        ("GET", "/api/v1/projects/a%00b", None),
        ("POST", "/api/v1/projects", {"name": "a\x00b"}),
    ],
    ids=["sign-in", "lookup", "create"],
)
def test_a_nul_character_is_never_a_server_error(
    control_on_backend: TestClient, backend: str, method: str, url: str, body: object
) -> None:
    """PostgreSQL stores no NUL characters: its driver refused them with a DataError (500)."""
    client = control_on_backend
    credentials = {"upn": UPN, "password": PASSWORD}
    token = client.post("/api/v1/auth/token", json=credentials).json()["access_token"]
    response = client.request(method, url, json=body, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code < 500, response.text
    if backend == "postgresql":
        problem = response.json()
        assert (response.status_code, problem["code"]) == (422, "DW1000")
        assert "NUL" in problem["detail"]
