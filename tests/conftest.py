"""Shared fixtures: real databases per backend, settings in a temporary home, a control store."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from backends import backend_params, fresh_database
from dualwrite.control.store import ControlStore
from dualwrite.settings import Settings


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
    return Settings(home=tmp_path / "home", database_url=None, login_max_failures=3)


@pytest.fixture
def store(settings: Settings) -> Iterator[ControlStore]:
    """An upgraded SQLite control store in the test's temporary home."""
    control = ControlStore(settings.control_url)
    control.upgrade()
    yield control
    control.dispose()
