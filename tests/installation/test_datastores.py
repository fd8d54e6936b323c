"""Data store ownership and who may name a location (the issue "Security first", finding 1):
a tenant can never reach another tenant's store, and a refused location leaves nothing behind."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dualwrite.control.models import DataStoreClaim, FoEnvironment, PlatformEnvironment, User
from dualwrite.control.store import ControlStore
from dualwrite.errors import DualWriteError
from dualwrite.identity.directory import get_user
from dualwrite.lifecycle import environments, projects
from dualwrite.lifecycle.environments import EnvironmentSpec
from dualwrite.platform import environments as platform
from dualwrite.settings import Settings
from factories import PASSWORD, add_user, bootstrap

API = "/api/v1"
FABRIKAM = "fabrikam.onmicrosoft.com"


@pytest.fixture
def tenants(store: ControlStore, settings: Settings) -> dict[str, str]:
    """contoso (its admin is the installation operator) with an environment on a named store;
    fabrikam with a Global administrator and a plain user who owns a project."""
    with store.session() as session:
        operator = bootstrap(session)
        rollout = projects.create_project(session, operator, "Rollout")
        target = settings.home.parent / "contoso-stores" / "fo.db"
        spec = EnvironmentSpec(name="contoso-test", data_store_url=f"sqlite:///{target}")
        environments.deploy_environment(session, settings, operator, rollout, spec)
        fabrikam = bootstrap(session, FABRIKAM)
        fred = add_user(session, fabrikam, "fred", licenses=("D365_FINANCE",))
        projects.create_project(session, fred, "Fred's")
        projects.create_project(session, fabrikam, "Fabrikam ERP")
    return {"contoso_store": str(target)}


def _operator(session: Session) -> User:
    return get_user(session, "admin@contoso.onmicrosoft.com")


def _token(client: TestClient, upn: str) -> dict[str, str]:
    signed = client.post(f"{API}/auth/token", json={"upn": upn, "password": PASSWORD})
    assert signed.status_code == 200, signed.text
    return {"Authorization": f"Bearer {signed.json()['access_token']}"}


def _spellings(path: str) -> list[str]:
    folder, name = path.rsplit("/", 1)
    return [
        f"sqlite:///{path}",
        f"sqlite:///{folder}//{name}",
        f"sqlite:///{folder}/./{name}",
        f"sqlite:///{folder}/../{Path(folder).name}/{name}",
    ]


def _counts(store: ControlStore) -> tuple[int, int, int]:
    with store.session() as session:
        return tuple(  # type: ignore[return-value]
            session.scalar(select(func.count()).select_from(t)) or 0
            for t in (FoEnvironment, PlatformEnvironment, DataStoreClaim)
        )


@pytest.mark.parametrize("who", ["fred", "admin"])
def test_a_tenant_cannot_name_another_tenants_store_in_any_spelling(
    client: TestClient, store: ControlStore, tenants: dict[str, str], who: str
) -> None:
    headers = _token(client, f"{who}@{FABRIKAM}")
    project = "Fred's" if who == "fred" else "Fabrikam ERP"
    before = _counts(store)
    for n, url in enumerate(_spellings(tenants["contoso_store"])):
        body = {"name": f"steal-{n}", "project": project, "data_store_url": url}
        answer = client.post(f"{API}/environments", json=body, headers=headers)
        assert answer.status_code == 403, answer.text
        assert answer.json()["code"] == "DW2007"
        dv = {"name": f"Steal {n}", "region": "West US", "dataverse": True, "dataverse_url": url}
        answer = client.post(f"{API}/platform/environments", json=dv, headers=headers)
        assert (answer.status_code, answer.json()["code"]) == (403, "DW2007")
    assert _counts(store) == before


def test_a_plain_user_cannot_make_the_server_create_files(
    client: TestClient, store: ControlStore, tenants: dict[str, str], tmp_path: Path
) -> None:
    headers = _token(client, f"fred@{FABRIKAM}")
    elsewhere = tmp_path / "planted" / "deep" / "evil.db"
    body = {"name": "planter", "project": "Fred's", "data_store_url": f"sqlite:///{elsewhere}"}
    answer = client.post(f"{API}/environments", json=body, headers=headers)
    assert answer.status_code == 403
    assert not (tmp_path / "planted").exists()


def test_without_a_url_every_tenant_gets_its_own_store_even_for_equal_names(
    client: TestClient, store: ControlStore, settings: Settings, tenants: dict[str, str]
) -> None:
    contoso, fabrikam = (
        _token(client, "admin@contoso.onmicrosoft.com"),
        _token(client, f"admin@{FABRIKAM}"),
    )
    for headers, project in ((contoso, "Rollout"), (fabrikam, "Fabrikam ERP")):
        answer = client.post(
            f"{API}/environments", json={"name": "shared-name", "project": project}, headers=headers
        )
        assert answer.status_code == 201, answer.text
    for domain in ("contoso.onmicrosoft.com", FABRIKAM):
        assert (settings.environments_dir / domain / "shared-name" / "fo.db").exists()
    # Each tenant sees only its own, and a second one of the same name is refused in-tenant.
    listed = client.get(f"{API}/environments", headers=fabrikam).json()
    assert [e["name"] for e in listed] == ["shared-name"]
    again = client.post(
        f"{API}/environments",
        json={"name": "shared-name", "project": "Fabrikam ERP"},
        headers=fabrikam,
    )
    assert (again.status_code, again.json()["code"]) == (409, "DW1001")


def test_the_operator_names_stores_only_inside_the_allow_list(
    store: ControlStore, settings: Settings, tenants: dict[str, str], tmp_path: Path
) -> None:
    outside = tmp_path.parent / f"{tmp_path.name}-outside" / "fo.db"
    with store.session() as session:
        operator = _operator(session)
        rollout = projects.get_project(session, operator, "Rollout")
        with pytest.raises(DualWriteError) as err:
            spec = EnvironmentSpec(name="outside", data_store_url=f"sqlite:///{outside}")
            environments.deploy_environment(session, settings, operator, rollout, spec)
        assert err.value.code == "DW2008"
        assert "DUALWRITE_STORE_DIRECTORIES" in err.value.hint
        with pytest.raises(DualWriteError) as err:
            spec = EnvironmentSpec(
                name="remote", data_store_url="postgresql+psycopg://postgres@10.9.8.7/x"
            )
            environments.deploy_environment(session, settings, operator, rollout, spec)
        assert err.value.code == "DW2008"
    assert not outside.parent.exists()


def test_the_operator_cannot_give_one_store_to_two_environments(
    store: ControlStore, settings: Settings, tenants: dict[str, str]
) -> None:
    with store.session() as session:
        operator = _operator(session)
        rollout = projects.get_project(session, operator, "Rollout")
        for n, url in enumerate(_spellings(tenants["contoso_store"])):
            with pytest.raises(DualWriteError) as err:
                spec = EnvironmentSpec(name=f"again-{n}", data_store_url=url)
                environments.deploy_environment(session, settings, operator, rollout, spec)
            assert err.value.code == "DW2009"
            with pytest.raises(DualWriteError) as err:
                platform.create_environment(
                    session,
                    settings,
                    operator,
                    name=f"Again {n}",
                    region="West US",
                    dataverse=True,
                    dataverse_url=url,
                )
            assert err.value.code == "DW2009"


@pytest.mark.postgresql
def test_server_spellings_of_one_database_belong_to_one_environment(
    store: ControlStore,
    settings: Settings,
    tenants: dict[str, str],
    new_database: Callable[[str], str],
) -> None:
    url = new_database("postgresql")
    database = url.rsplit("/", 1)[1]
    with store.session() as session:
        operator = _operator(session)
        rollout = projects.get_project(session, operator, "Rollout")
        spec = EnvironmentSpec(name="on-server", data_store_url=url)
        environments.deploy_environment(session, settings, operator, rollout, spec)
    with store.session() as session:
        operator = _operator(session)
        with pytest.raises(DualWriteError) as err:
            platform.create_environment(
                session,
                settings,
                operator,
                name="Same db",
                region="West US",
                dataverse=True,
                dataverse_url=f"postgresql://postgres@localhost/{database}",
            )
        assert err.value.code == "DW2009"
