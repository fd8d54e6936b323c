"""Errors are rendered in one place: problem details for the API, an HTML page for the web UI."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from dualwrite.api.app import create_app
from dualwrite.control.store import ControlStore
from dualwrite.settings import Settings

Login = Callable[[str], dict[str, str]]
PROBLEM_KEYS = {"type", "title", "status", "code", "detail", "hint"}


def test_a_service_error_is_a_problem_document(client: TestClient, login: Login) -> None:
    response = client.get("/api/v1/projects/Nowhere", headers=login("admin"))
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert set(problem) >= PROBLEM_KEYS
    assert problem["type"] == "about:blank"
    assert (problem["title"], problem["status"], problem["code"]) == ("Not Found", 404, "DW1002")
    assert problem["detail"] == "No project named 'Nowhere' was found."
    assert problem["hint"]


@pytest.mark.parametrize(
    ("url", "body", "fields"),
    [
        ("/api/v1/projects", {}, "name"),
        ("/api/v1/users", {"upn": "x@contoso.onmicrosoft.com"}, "display_name, password"),
        ("/api/v1/environments", {"name": "e", "project": "p", "legal_entities": 7}, "legal_ent"),
        ("/api/v1/platform/environments", {"name": "p", "dataverse": "maybe"}, "dataverse"),
    ],
)
def test_request_validation_is_dw1000_naming_the_fields(
    client: TestClient, login: Login, url: str, body: dict[str, object], fields: str
) -> None:
    response = client.post(url, json=body, headers=login("admin"))
    assert response.status_code == 422
    problem = response.json()
    assert set(problem) >= PROBLEM_KEYS
    assert problem["code"] == "DW1000"
    assert problem["detail"].startswith(fields)


def test_a_malformed_json_body_is_dw1000(client: TestClient, login: Login) -> None:
    headers = {**login("admin"), "content-type": "application/json"}
    response = client.post("/api/v1/projects", content=b"{not json", headers=headers)
    assert (response.status_code, response.json()["code"]) == (422, "DW1000")
    assert response.json()["detail"].startswith("body: is not valid JSON (")


@pytest.mark.parametrize("url", ["/api/v1/projects", "/api/v1/auth/login"])
def test_a_body_that_is_not_utf8_is_dw1000(client: TestClient, login: Login, url: str) -> None:
    """Not a 500 (sign-in reads its body itself), nor DW1009's "no such route" (the others)."""
    headers = {**login("admin"), "content-type": "application/json"}
    response = client.post(url, content=b'{"name": "\x80"}', headers=headers)
    assert response.status_code in (400, 422)
    problem = response.json()
    assert problem["code"] == "DW1000"
    assert problem["detail"].startswith(("body: is not valid JSON (not UTF-8", "request: "))


def test_a_bad_query_parameter_is_dw1000(client: TestClient, login: Login) -> None:
    url = "/api/v1/environments/x/maps/y/queue?limit=lots"
    response = client.get(url, headers=login("admin"))
    assert (response.status_code, response.json()["code"]) == (422, "DW1000")
    assert response.json()["detail"].startswith("limit")


def test_unknown_routes_and_methods_are_problems_too(client: TestClient) -> None:
    missing = client.get("/api/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert set(missing.json()) >= PROBLEM_KEYS
    wrong = client.delete("/api/v1/health")
    assert (wrong.status_code, wrong.json()["title"]) == (405, "Method Not Allowed")
    assert "GET" in wrong.headers["allow"]


def _boom() -> None:
    raise RuntimeError("secret internals at /srv/dualwrite")


def test_unexpected_errors_are_500_without_a_traceback(
    settings: Settings, store: ControlStore, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(settings, store)
    app.add_api_route("/api/v1/boom", _boom)
    app.add_api_route("/boom", _boom)
    with TestClient(app, raise_server_exceptions=False) as client:
        api = client.get("/api/v1/boom")
        page = client.get("/boom")
    assert api.status_code == page.status_code == 500
    assert api.json()["code"] == "DW0000"
    assert set(api.json()) >= PROBLEM_KEYS
    assert page.headers["content-type"].startswith("text/html")
    for response in (api, page):
        assert "secret internals" not in response.text
        assert "Traceback" not in response.text
    logged = [r for r in caplog.records if r.name == "dualwrite.api"]
    assert logged and logged[0].levelno == logging.ERROR and logged[0].exc_info


def test_web_paths_get_an_html_error_page(client: TestClient) -> None:
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "<h1>Not Found</h1>" in response.text
    assert 'href="/static/app.css"' in response.text


def test_a_body_over_the_limit_is_refused_before_it_is_read(
    settings: Settings, store: ControlStore
) -> None:
    """Also an upload to a page, which the framework would otherwise store whatever its size."""
    small = settings.model_copy(update={"max_request_bytes": 2048})
    with TestClient(create_app(small, store)) as client:
        big = client.post("/api/v1/auth/token", content=b"x" * 4096)
        assert (big.status_code, big.json()["code"]) == (413, "DW1010")
        upload = client.post(
            "/environments/x/dualwrite/solutions", files={"solution": ("s.toml", b"#" * 4096)}
        )
        assert upload.status_code == 413
        assert "DW1010" in upload.text

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
            yield from (b"y" * 1024 for _ in range(4))

        streamed = client.post("/api/v1/auth/token", content=chunks())
        assert (streamed.status_code, streamed.json()["code"]) == (413, "DW1010")
        ok = client.post("/api/v1/auth/token", json={"upn": "a@b.cd", "password": "x"})
        assert ok.status_code == 401  # small bodies as before
