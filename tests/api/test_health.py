"""The health route: no sign-in, the control store's URL with its password masked, 503 when down."""

from __future__ import annotations

from fastapi.testclient import TestClient

from dualwrite import __version__
from dualwrite.api.app import create_app
from dualwrite.control.store import ControlStore
from dualwrite.settings import Settings

UNREACHABLE = "postgresql+psycopg://postgres:s3cret@127.0.0.1:1/x"


def test_health_answers_without_sign_in(client: TestClient, store: ControlStore) -> None:
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "version": __version__,
        "control_store": store.url,
        "schema_revision": store.current_revision(),
    }


def test_health_is_503_when_the_control_store_is_unreachable(settings: Settings) -> None:
    store = ControlStore(UNREACHABLE)
    try:
        with TestClient(create_app(settings, store)) as client:
            response = client.get("/api/v1/health")
    finally:
        store.dispose()
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "DW2002"
    assert "s3cret" not in response.text
    assert "postgres:***@127.0.0.1:1/x" in problem["detail"]
