"""Schemathesis generates requests from our OpenAPI description, signed in as a tenant admin in
a world where every setup flow is done: no input may produce a server error (5xx)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings

from dualwrite.api.app import create_app
from dualwrite.control.store import ControlStore
from dualwrite.settings import Settings
from factories import PASSWORD, linked_world

# Schemathesis reads the schema when the module is collected, so the app exists from then on;
# its world is built (and its folder removed) by the module fixture below.
HOME = Path(tempfile.mkdtemp(prefix="dualwrite-schemathesis-"))
CONFIG = Settings(home=HOME, database_url=None, store_directories=[HOME])
STORE = ControlStore(CONFIG.control_url)
APP = create_app(CONFIG, STORE)
schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", APP)


@pytest.fixture(scope="module")
def admin_headers() -> Iterator[dict[str, str]]:
    STORE.upgrade()
    with STORE.session() as session:
        linked_world(session, CONFIG, f"sqlite:///{HOME / 'fo.db'}", f"sqlite:///{HOME / 'dv.db'}")
    with TestClient(APP) as client:
        signed = client.post(
            "/api/v1/auth/token",
            json={"upn": "admin@contoso.onmicrosoft.com", "password": PASSWORD},
        )
    yield {"Authorization": f"Bearer {signed.json()['access_token']}"}
    STORE.dispose()
    shutil.rmtree(HOME, ignore_errors=True)


@schema.parametrize()
@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_server_error(case: schemathesis.Case, admin_headers: dict[str, str]) -> None:
    response = case.call(headers=admin_headers)
    assert response.status_code < 500, (case.method, case.formatted_path, response.text)
