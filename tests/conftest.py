"""Shared fixtures: real databases per backend, settings in a temporary home, a control store."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from backends import backend_params, fresh_database
from dualwrite.api.app import create_app
from dualwrite.control.store import ControlStore
from dualwrite.settings import Settings
from factories import PASSWORD, add_user, bootstrap, settings_for

Headers = dict[str, str]


@pytest.fixture(params=backend_params)
def backend(request: pytest.FixtureRequest) -> str:
    """Parametrizes a test over sqlite, postgresql and mariadb."""
    return str(request.param)


@pytest.fixture
def new_database(tmp_path: Path) -> Iterator[Callable[[str], str]]:
    """Factory: `new_database("postgresql")` -> URL of a fresh empty database, dropped after."""
    with ExitStack() as stack:

        def make(backend: str) -> str:
            return stack.enter_context(fresh_database(backend, tmp_path))

        yield make


@pytest.fixture
def database_url(backend: str, new_database: Callable[[str], str]) -> str:
    """A fresh empty database on the parametrized backend."""
    return new_database(backend)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return settings_for(tmp_path, login_max_failures=3)


@pytest.fixture
def store(settings: Settings) -> Iterator[ControlStore]:
    """An upgraded SQLite control store in the test's temporary home."""
    control = ControlStore(settings.control_url)
    control.upgrade()
    yield control
    control.dispose()


@pytest.fixture
def client(settings: Settings, store: ControlStore) -> Iterator[TestClient]:
    with TestClient(create_app(settings, store)) as test_client:
        yield test_client


@pytest.fixture
def world(store: ControlStore) -> None:
    """contoso: admin (Global admin), pat (Power Platform admin), joe (plain user, licensed)."""
    with store.session() as session:
        admin = bootstrap(session)
        add_user(session, admin, "pat", roles=("power-platform-admin",))
        add_user(session, admin, "joe", licenses=("D365_FINANCE",))


@pytest.fixture
def login(client: TestClient, world: None) -> Callable[[str], Headers]:
    def sign_in(alias: str) -> Headers:
        response = client.post(
            "/api/v1/auth/token",
            json={"upn": f"{alias}@contoso.onmicrosoft.com", "password": PASSWORD},
        )
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    return sign_in
