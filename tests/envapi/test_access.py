"""Who may call the environment APIs, per role, on every route kind (read and write), in each
platform's error shape; another tenant's caller finds nothing, exactly as for a name nobody has."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from dualwrite.control.models import (
    ApplicationUser,
    EnvironmentState,
    FoEnvironment,
    FoSecurityRole,
    PlatformEnvironment,
    ProjectRole,
    User,
)
from dualwrite.control.store import ControlStore
from dualwrite.envapi import access
from dualwrite.identity.principals import Principal
from dualwrite.lifecycle import environments, projects
from dualwrite.odata.errors import ODataError
from dualwrite.platform import environments as platform
from envapi.conftest import World
from factories import add_user, bootstrap


@pytest.fixture
def people(world: World, store: ControlStore) -> World:
    with store.session() as session:
        admin = session.scalars(select(User).where(User.upn.startswith("admin@contoso"))).one()
        add_user(session, admin, "pat", roles=("power-platform-admin",))
        add_user(session, admin, "joe")
        add_user(session, admin, "tm")
        add_user(session, admin, "er")
        add_user(session, admin, "sa")
        env = session.scalars(select(FoEnvironment)).one()
        projects.add_member(
            session, admin, env.project, "tm@contoso.onmicrosoft.com", ProjectRole.TEAM_MEMBER
        )
        environments.grant_environment_role(
            session, admin, env, "er@contoso.onmicrosoft.com", FoSecurityRole.DUALWRITE_USER
        )
        target = session.get(PlatformEnvironment, world.environment_id)
        assert target is not None
        platform.add_admin(session, admin, target, "sa@contoso.onmicrosoft.com")
        bootstrap(session, "fabrikam.onmicrosoft.com")
    return world


def _dv_write(client: httpx.Client, world: World) -> httpx.Response:
    return client.post(f"{world.dataverse}/accounts", json={"name": "x", "accountnumber": "AC-1"})


def _fo_write(client: httpx.Client, world: World) -> httpx.Response:
    return client.patch(
        f"{world.fo}/CustomersV3(dataAreaId='usmf',CustomerAccount='US-000001')",
        json={"AddressCity": "Redmond"},
    )


def test_dataverse_roles(people: World) -> None:
    world = people
    expectations = {"admin": (200, 400), "sa": (200, 400), "pat": (200, 403), "joe": (403, 403)}
    for alias, (read, write) in expectations.items():
        with world.client(alias) as client:
            got = client.get(f"{world.dataverse}/accounts?$top=1")
            assert got.status_code == read, (alias, got.text)
            if read == 403:
                assert got.json()["error"]["code"] == "0x80040220"
                assert "is missing prvReadAccount privilege" in got.json()["error"]["message"]
            written = _dv_write(client, world)  # admins get past access: 400 for no company
            assert written.status_code == write, (alias, written.text)
            if write == 403:
                assert written.json()["error"]["code"] == "0x80040220"
                wanted = "prvReadAccount" if read == 403 else "prvCreateAccount"
                assert wanted in written.json()["error"]["message"]


def test_fo_roles(people: World) -> None:
    world = people
    expectations = {
        "admin": (200, 204),
        "er": (200, 204),
        "tm": (200, 403),
        "pat": (403, 403),
        "joe": (403, 403),
    }
    for alias, (read, write) in expectations.items():
        with world.client(alias) as client:
            got = client.get(f"{world.fo}/CustomersV3?$top=1")
            assert got.status_code == read, (alias, got.text)
            written = _fo_write(client, world)
            assert written.status_code == write, (alias, written.text)
            if write == 403:
                error = written.json()["error"]
                assert error["code"] == "" and "Access denied" in error["message"]


def test_other_tenants_and_anonymous_find_nothing(people: World) -> None:
    world = people
    nobody = "00000000-0000-0000-0000-00000000beef"
    with world.client("admin", "fabrikam.onmicrosoft.com") as other:
        theirs = other.get(f"{world.dataverse}/accounts")
        unknown = other.get(f"{world.url}/dataverse/{nobody}/api/data/v9.2/accounts")
        assert theirs.status_code == unknown.status_code == 404
        assert theirs.json()["error"]["message"] == unknown.json()["error"]["message"].replace(
            nobody, world.environment_id
        )
        fo_theirs = other.get(f"{world.fo}/CustomersV3")
        fo_unknown = other.get(f"{world.url}/environments/no-such-env/data/CustomersV3")
        assert fo_theirs.status_code == fo_unknown.status_code == 404
        assert _fo_write(other, world).status_code == 404
    anonymous = httpx.get(f"{world.dataverse}/accounts")
    assert anonymous.status_code == 401 and anonymous.json()["error"]["code"] == "0x80072560"
    assert "Bearer" in anonymous.headers["WWW-Authenticate"]
    forged = httpx.get(f"{world.fo}/CustomersV3", headers={"Authorization": "Bearer forged"})
    assert forged.status_code == 401 and forged.json()["error"]["code"] == ""
    assert "ms-dyn-aid" in forged.headers


def test_challenge_for_a_non_ascii_name_is_a_valid_header(world: World) -> None:
    """A name is any Unicode, a header is ASCII: the challenge's resource is percent-encoded
    (a raw '²' once made the response undecodable for clients)."""
    response = httpx.get(f"{world.url}/environments/caf\u00e9\u00b2/data/CustomersV3")
    assert response.status_code == 401
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.isascii() and "/environments/caf%C3%A9%C2%B2/" in challenge


def test_application_users(people: World, store: ControlStore) -> None:
    """Principals of registered applications (the token service makes them): the enabled
    dual-write application users write; a disabled one, or one of another side, does not."""
    with store.session() as session:
        env = session.get(PlatformEnvironment, people.environment_id)
        assert env is not None
        app = session.scalars(
            select(ApplicationUser).where(
                ApplicationUser.platform_environment_id == env.id,
                ApplicationUser.side == "dataverse",
            )
        ).one()
        principal = Principal(tenant_id=env.tenant_id, object_id="sp-1", app_id=app.application_id)
        assert access.dataverse_grant(session, principal, env.id).can_write
        fo_env = session.scalars(select(FoEnvironment)).one()
        fo_app = session.scalars(
            select(ApplicationUser).where(ApplicationUser.side == "fo")
        ).first()
        if fo_app is not None:
            fo_principal = Principal(env.tenant_id, "sp-2", app_id=fo_app.application_id)
            assert access.fo_grant(session, fo_principal, fo_env.name).can_write
        app.enabled = False
        session.flush()
        with pytest.raises(ODataError) as refused:
            access.dataverse_grant(session, principal, env.id)
        assert refused.value.status == 403
        stranger = Principal(
            tenant_id=env.tenant_id + 1, object_id="sp-3", app_id=app.application_id
        )
        with pytest.raises(ODataError) as hidden:
            access.dataverse_grant(session, stranger, env.id)
        assert hidden.value.status == 404


def test_fo_downtime_refuses_writes_not_reads(people: World, store: ControlStore) -> None:
    with store.session() as session:
        env = session.scalars(select(FoEnvironment)).one()
        env.state = EnvironmentState.DOWNTIME
        env.state_reason = "Power Platform integration setup"
    with people.client() as admin:
        assert admin.get(f"{people.fo}/CustomersV3?$top=1").status_code == 200
        refused = _fo_write(admin, people)
        assert refused.status_code == 503
        assert "Power Platform integration setup" in refused.json()["error"]["message"]
