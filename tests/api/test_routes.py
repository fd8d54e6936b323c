"""Every API route: anonymous callers are refused, and the OpenAPI description lists it."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from dualwrite.api.app import API_PREFIX, ROUTERS

PUBLIC = {("GET", "/api/v1/health"), ("POST", "/api/v1/auth/token"), ("POST", "/api/v1/auth/login")}
ROUTES = sorted(
    (method, API_PREFIX + route.path)
    for router in ROUTERS
    for route in router.routes
    if isinstance(route, APIRoute)
    for method in route.methods
)
PRIVATE = [r for r in ROUTES if r not in PUBLIC]


@pytest.mark.parametrize(("method", "path"), PRIVATE, ids=[f"{m} {p}" for m, p in PRIVATE])
def test_every_private_route_refuses_anonymous_callers(
    client: TestClient, world: None, method: str, path: str
) -> None:
    url = re.sub(r"\{[^}]+\}", "x", path)
    for headers in ({}, {"Authorization": "Bearer not-a-token"}):
        response = client.request(method, url, json={}, headers=headers)
        assert response.status_code == 401, response.text
        assert response.json()["code"] == "DW3003"
        assert response.headers["www-authenticate"] == "Bearer"


def test_openapi_documents_every_route_and_how_to_sign_in(client: TestClient) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    documented = sorted(
        (method.upper(), path) for path, ops in spec["paths"].items() for method in ops
    )
    assert documented == ROUTES
    assert len(ROUTES) >= 25
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            assert op["summary"], path
            signed_in = (method.upper(), path) not in PUBLIC
            assert bool(op.get("security")) == signed_in, (method, path)
    schemes = spec["components"]["securitySchemes"]
    assert (schemes["bearerToken"]["scheme"], schemes["sessionCookie"]["name"]) == (
        "bearer",
        "dw_session",
    )


def test_api_docs_are_served_from_local_files(client: TestClient) -> None:
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "/static/swagger/swagger-ui-bundle.js" in docs.text
    assert "/api/v1/openapi.json" in docs.text
    assert "https://" not in docs.text and "cdn" not in docs.text.lower()
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"):
        assert client.get(f"/static/swagger/{asset}").status_code == 200
    alias = client.get("/api/v1/docs", follow_redirects=False)
    assert (alias.status_code, alias.headers["location"]) == (307, "/docs")
