"""Deploying F&O environments: data store on any backend, initial Power Platform environment,
and bad input that leaves nothing behind."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select

from dualwrite.control.models import (
    EnvironmentState,
    FoEnvironment,
    PlatformEnvironment,
    Project,
    User,
)
from dualwrite.control.store import ControlStore
from dualwrite.databases import make_engine
from dualwrite.errors import DualWriteError
from dualwrite.lifecycle import environments, projects
from dualwrite.lifecycle.environments import EnvironmentSpec
from dualwrite.settings import Settings
from dualwrite.stores import fo
from dualwrite.stores.datastore import legal_entities
from factories import add_user, bootstrap


def _world(store: ControlStore) -> tuple[User, Project]:
    with store.session() as session:
        admin = bootstrap(session)
        project = projects.create_project(session, admin, "Rollout")
    return admin, project


def _deploy(store: ControlStore, settings: Settings, spec: EnvironmentSpec) -> FoEnvironment:
    with store.session() as session:
        admin = session.merge(_admin(store))
        project = projects.get_project(session, admin, "Rollout")
        return environments.deploy_environment(session, settings, admin, project, spec)


def _admin(store: ControlStore) -> User:
    from dualwrite.identity.directory import get_user

    with store.session() as session:
        return get_user(session, "admin@contoso.onmicrosoft.com")


def _counts(store: ControlStore) -> tuple[int, int]:
    with store.session() as session:
        fo_count = session.scalar(select(func.count()).select_from(FoEnvironment)) or 0
        pp_count = session.scalar(select(func.count()).select_from(PlatformEnvironment)) or 0
    return fo_count, pp_count


def test_deploy_creates_data_store_and_initial_platform_environment(
    store: ControlStore, settings: Settings, database_url: str
) -> None:
    _world(store)
    env = _deploy(
        store,
        settings,
        EnvironmentSpec(name="contoso-test", region="west us", data_store_url=database_url),
    )
    assert env.region == "West US"
    with store.session() as session:
        env = session.get(FoEnvironment, env.id)
        assert env is not None
        assert env.geography == "United States"
        assert env.state is EnvironmentState.DEPLOYED
        initial = env.platform_environment
        assert initial is not None
        assert (initial.is_initial, initial.has_dataverse) == (True, False)
        assert initial.geography == "United States"
    engine = make_engine(database_url)
    try:
        assert set(fo.metadata.tables) <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert [e.id if hasattr(e, "id") else e[0] for e in legal_entities(database_url)] == [
        "DEMF",
        "GBSI",
        "USMF",
    ]


def test_default_data_store_is_a_sqlite_file_in_the_data_directory(
    store: ControlStore, settings: Settings
) -> None:
    _world(store)
    env = _deploy(store, settings, EnvironmentSpec(name="contoso-dev"))
    assert env.data_store_url.startswith("sqlite:///")
    tenant_folder = settings.environments_dir / "contoso.onmicrosoft.com"
    assert (tenant_folder / "contoso-dev" / "fo.db").exists()


@pytest.mark.parametrize(
    ("spec", "code"),
    [
        (EnvironmentSpec(name="ok-name", region="Atlantis"), "DW1003"),
        (EnvironmentSpec(name="x"), "DW1000"),
        (EnvironmentSpec(name="ok-name", type="staging"), "DW1000"),
        (EnvironmentSpec(name="ok-name", legal_entities=["us mf"]), "DW1000"),
        (EnvironmentSpec(name="ok-name", legal_entities=[]), "DW1000"),
        (EnvironmentSpec(name="ok-name", data_store_url="oracle://db/x"), "DW2001"),
        (EnvironmentSpec(name="ok-name", data_store_url="not a url"), "DW2001"),
        (
            EnvironmentSpec(
                name="ok-name", data_store_url="postgresql+psycopg://postgres@127.0.0.1:2/x"
            ),
            "DW2008",  # a server the installation does not allow
        ),
        (
            EnvironmentSpec(
                name="ok-name", data_store_url="postgresql+psycopg://postgres@127.0.0.1:1/x"
            ),
            "DW2002",  # an allowed server that is down
        ),
    ],
)
def test_bad_input_is_refused_and_nothing_is_stored(
    store: ControlStore, settings: Settings, spec: EnvironmentSpec, code: str
) -> None:
    _world(store)
    with pytest.raises(DualWriteError) as err:
        _deploy(store, settings, spec)
    assert err.value.code == code
    assert err.value.hint
    assert _counts(store) == (0, 0)


def test_duplicate_names_and_shared_data_stores_are_refused(
    store: ControlStore, settings: Settings, tmp_path: Path
) -> None:
    _world(store)
    shared = tmp_path / "shared"
    url = f"sqlite:///{shared / 'fo.db'}"
    _deploy(store, settings, EnvironmentSpec(name="first-env", data_store_url=url))
    with pytest.raises(DualWriteError) as err:
        _deploy(store, settings, EnvironmentSpec(name="first-env"))
    assert err.value.code == "DW1001"
    (tmp_path / "link").symlink_to(shared)
    spellings = [
        url,
        f"sqlite:///{tmp_path}//shared/./fo.db",
        f"sqlite:///{tmp_path}/other/../shared/fo.db",
        f"sqlite:///{tmp_path}/link/fo.db",
    ]
    for n, same_file in enumerate(spellings):
        with pytest.raises(DualWriteError) as err:
            spec = EnvironmentSpec(name=f"second-env-{n}", data_store_url=same_file)
            _deploy(store, settings, spec)
        assert err.value.code == "DW2009", same_file
        assert "already belongs to another environment" in err.value.message
    assert _counts(store) == (1, 1)
    assert not (tmp_path / "other").exists()


def test_only_owners_and_environment_managers_deploy(
    store: ControlStore, settings: Settings
) -> None:
    admin, _ = _world(store)
    with store.session() as session:
        admin = session.merge(admin)
        project = projects.get_project(session, admin, "Rollout")
        member = add_user(session, admin, "tim")
        manager = add_user(session, admin, "mia")
        projects.add_member(session, admin, project, member.upn, "team-member")
        projects.add_member(session, admin, project, manager.upn, "environment-manager")
        with pytest.raises(DualWriteError) as err:
            environments.deploy_environment(
                session, settings, member, project, EnvironmentSpec(name="by-member")
            )
        assert err.value.code == "DW3004"
        env = environments.deploy_environment(
            session, settings, manager, project, EnvironmentSpec(name="by-manager")
        )
        assert [e.name for e in environments.list_environments(session, member)] == [env.name]


def test_downtime_refuses_writes_with_the_reason(store: ControlStore, settings: Settings) -> None:
    _world(store)
    env = _deploy(store, settings, EnvironmentSpec(name="contoso-dev"))
    environments.require_writable(env)
    env.state = EnvironmentState.DOWNTIME
    env.state_reason = "Power Platform integration is being set up"
    with pytest.raises(DualWriteError) as err:
        environments.require_writable(env)
    assert err.value.code == "DW2004"
    assert "Power Platform integration" in err.value.message
    assert "reads still work" in err.value.message


def test_environments_on_server_backends_share_nothing(
    store: ControlStore, settings: Settings, new_database: Callable[[str], str]
) -> None:
    """Two environments on one server get separate databases, each with its own legal entities."""
    _world(store)
    first, second = new_database("postgresql"), new_database("postgresql")
    _deploy(
        store,
        settings,
        EnvironmentSpec(name="env-one", data_store_url=first, legal_entities=["USMF"]),
    )
    _deploy(
        store,
        settings,
        EnvironmentSpec(name="env-two", data_store_url=second, legal_entities=["DEMF"]),
    )
    assert len(legal_entities(first)) == 1
    assert len(legal_entities(second)) == 1
