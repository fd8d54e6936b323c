"""The control store works on every backend, not only SQLite (DUALWRITE_DATABASE_URL)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dualwrite.control.store import ControlStore
from dualwrite.errors import DualWriteError
from dualwrite.identity import sessions
from dualwrite.identity.sessions import SessionKind
from dualwrite.lifecycle import environments, projects
from dualwrite.lifecycle.environments import EnvironmentSpec
from dualwrite.settings import Settings
from factories import PASSWORD, bootstrap


def test_sign_in_throttling_and_deploy_on_each_control_store_backend(
    database_url: str, tmp_path: Path
) -> None:
    settings = Settings(home=tmp_path / "home", database_url=database_url, login_max_failures=2)
    store = ControlStore(settings.control_url)
    try:
        store.upgrade()
        with store.session() as session:
            admin = bootstrap(session)
            project = projects.create_project(session, admin, "Rollout")
            spec = EnvironmentSpec(name="contoso-test", legal_entities=["USMF"])
            environments.deploy_environment(session, settings, admin, project, spec)
        signed = sessions.sign_in(
            store, settings, admin.upn, PASSWORD, SessionKind.BEARER, source="a"
        )
        with store.session() as session:
            assert sessions.authenticate(session, signed.token).upn == admin.upn
        for _ in range(2):
            with pytest.raises(DualWriteError):
                sessions.sign_in(
                    store, settings, admin.upn, "wrong", SessionKind.BEARER, source="a"
                )
        with pytest.raises(DualWriteError) as err:
            sessions.sign_in(store, settings, admin.upn, PASSWORD, SessionKind.BEARER, source="a")
        assert err.value.code == "DW3002"
        # Another address, which has not failed, is not held back.
        sessions.sign_in(store, settings, admin.upn, PASSWORD, SessionKind.BEARER, source="b")
        with store.session() as session:
            env = environments.get_environment(session, admin, "contoso-test")
            assert env.geography == "United States"
    finally:
        store.dispose()


def test_unreachable_control_store_is_a_clear_error(tmp_path: Path) -> None:
    store = ControlStore("postgresql+psycopg://postgres@127.0.0.1:1/dualwrite")
    with pytest.raises(DualWriteError) as err:
        store.upgrade()
    assert err.value.code == "DW2002"
    assert "127.0.0.1:1" in err.value.message
