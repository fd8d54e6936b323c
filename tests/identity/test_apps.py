"""Registered applications and their secrets, the dual-write application's registration, and
application users of environments: the rules, whoever calls them."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from dualwrite.control.models import (
    ApplicationUser,
    ClientSecret,
    FoEnvironment,
    PlatformEnvironment,
    RegisteredApplication,
    User,
    utcnow,
)
from dualwrite.control.store import ControlStore
from dualwrite.errors import DualWriteError
from dualwrite.identity import apps, directory
from dualwrite.identity.apps import SecretCheck, check_secret
from dualwrite.identity.environment_access import (
    FO_SYSTEM_ADMINISTRATOR,
    SYSTEM_ADMINISTRATOR,
    application_users,
    grant_application_user,
    revoke_application_user,
    security_roles,
)
from dualwrite.identity.principals import Principal
from dualwrite.identity.resources import find_resource
from dualwrite.lifecycle import environments, projects
from dualwrite.settings import Settings
from factories import add_user
from tokenworld import CONTOSO, TokenWorld, build

BASE = "http://127.0.0.1:8000"


@pytest.fixture
def tw(store: ControlStore, settings: Settings, tmp_path: Path) -> TokenWorld:
    world = build(store, settings, tmp_path)
    with store.session() as session:
        admin = directory.get_user(session, world.contoso.admin)
        add_user(session, admin, "pat", roles=("power-platform-admin",))
        add_user(session, admin, "eve")
    return world


def _user(session: Session, alias: str) -> User:
    return directory.get_user(session, f"{alias}@{CONTOSO}")


def _code(error: pytest.ExceptionInfo[DualWriteError]) -> str:
    return error.value.code


def test_an_application_is_made_with_a_secret_kept_only_as_a_hash(
    store: ControlStore, tw: TokenWorld
) -> None:
    with store.session() as session:
        app, made = apps.create_application(
            session, _user(session, "pat"), "  Reporting  ", secret_days=30, secret_description="CI"
        )
        assert (app.display_name, app.tenant.domain, app.enabled) == ("Reporting", CONTOSO, True)
        assert len(app.client_id) == len(app.object_id) == 36
        assert len(made.value) >= 40 and made.secret.hint == made.value[:3]
        expires = made.secret.expires_at - utcnow()
        assert timedelta(days=29, hours=23) < expires <= timedelta(days=30)
        assert check_secret(app, made.value) is SecretCheck.VALID
        assert check_secret(app, made.value + "x") is SecretCheck.WRONG
        client_id = app.client_id
    with store.engine.connect() as conn:
        dumped = " ".join(
            str(v) for row in conn.execute(text("SELECT * FROM client_secrets")) for v in row
        )
    assert made.value not in dumped
    with store.session() as session:
        listed = [a.client_id for a in apps.list_applications(session, _user(session, "admin"))]
        assert client_id in listed and tw.contoso.client_id in listed
        assert (
            apps.get_application(session, _user(session, "admin"), "Reporting").client_id
            == client_id
        )


@pytest.mark.parametrize(
    ("days", "name"),
    [(0, "x"), (731, "x"), (10, ""), (10, "n" * 121)],
    ids=["0d", "731d", "empty", "long"],
)
def test_bad_input_makes_nothing(store: ControlStore, tw: TokenWorld, days: int, name: str) -> None:
    with store.session() as session:
        before = session.scalars(select(RegisteredApplication.id)).all()
    with pytest.raises(DualWriteError) as caught, store.session() as session:
        apps.create_application(session, _user(session, "admin"), name, secret_days=days)
    assert _code(caught) == "DW1000"
    with store.session() as session:
        assert session.scalars(select(RegisteredApplication.id)).all() == before


def test_only_tenant_admins_manage_applications(store: ControlStore, tw: TokenWorld) -> None:
    with store.session() as session:
        eve = _user(session, "eve")
        app = session.scalars(
            select(RegisteredApplication).where(
                RegisteredApplication.client_id == tw.contoso.client_id
            )
        ).one()
        for attempt in (
            lambda: apps.create_application(session, eve, "Mine"),
            lambda: apps.list_applications(session, eve),
            lambda: apps.get_application(session, eve, tw.contoso.client_id),
            lambda: apps.rotate_secret(session, eve, app),
            lambda: apps.update_application(session, eve, app, enabled=False),
            lambda: apps.delete_application(session, eve, app),
        ):
            with pytest.raises(DualWriteError) as caught:
                attempt()
            assert (_code(caught), caught.value.status) == ("DW3004", 403)


def test_another_tenants_application_is_as_good_as_absent(
    store: ControlStore, tw: TokenWorld
) -> None:
    with store.session() as session:
        admin = _user(session, "admin")
        answers = []
        for key in (tw.fabrikam.client_id, "00000000-0000-0000-0000-000000000000"):
            with pytest.raises(DualWriteError) as caught:
                apps.get_application(session, admin, key)
            answers.append((_code(caught), caught.value.message.replace(key, "<KEY>")))
        assert (
            answers[0]
            == answers[1]
            == ("DW1002", "No registered application named '<KEY>' was found.")
        )
        assert tw.fabrikam.client_id not in [
            a.client_id for a in apps.list_applications(session, admin)
        ]


def test_rotation_ends_the_old_secrets_now_or_when_asked(
    store: ControlStore, tw: TokenWorld
) -> None:
    with store.session() as session:
        admin = _user(session, "admin")
        app = apps.get_application(session, admin, tw.contoso.client_id)
        later = apps.rotate_secret(
            session, admin, app, old_secrets_end=utcnow() + timedelta(hours=1)
        )
        assert check_secret(app, tw.contoso.secret) is SecretCheck.VALID  # until then
        assert check_secret(app, later.value) is SecretCheck.VALID
        newest = apps.rotate_secret(session, admin, app)
        assert check_secret(app, tw.contoso.secret) is SecretCheck.EXPIRED
        assert check_secret(app, later.value) is SecretCheck.EXPIRED
        assert check_secret(app, newest.value) is SecretCheck.VALID
        assert len(app.secrets) == 3
        with pytest.raises(DualWriteError) as caught:
            apps.rotate_secret(session, admin, app, old_secrets_end=utcnow() - timedelta(hours=1))
        assert "in the past" in caught.value.message


def test_the_dualwrite_application_is_registered_without_a_secret_and_stays(
    store: ControlStore, tw: TokenWorld
) -> None:
    with store.session() as session:
        admin = _user(session, "admin")
        registered = apps.get_application(session, admin, tw.dualwrite_client_id)
        assert (registered.display_name, registered.secrets) == ("Dual-write", [])
        assert apps.dualwrite_pairs(session, registered) == [tw.contoso.fo_env]
        with pytest.raises(DualWriteError) as caught:
            apps.delete_application(session, admin, registered)
        assert _code(caught) == "DW3007"
        made = apps.rotate_secret(session, admin, registered)  # the way to get its secret
        assert check_secret(registered, made.value) is SecretCheck.VALID


def test_deleting_an_application_takes_its_secrets_and_application_users(
    store: ControlStore, tw: TokenWorld
) -> None:
    with store.session() as session:
        admin = _user(session, "admin")
        env = environments.get_environment(session, admin, tw.contoso.fo_env)
        grant_application_user(session, admin, env, tw.contoso.client_id, "System administrator")
        app = apps.get_application(session, admin, tw.contoso.client_id)
        app_id = app.id
        apps.delete_application(session, admin, app)
        assert [u.client_id for u in application_users(session, env)] == [tw.dualwrite_client_id]
        mine = select(ClientSecret).where(ClientSecret.registered_app_id == app_id)
        assert session.scalars(mine).all() == []


def _dataverse(session: Session, tw: TokenWorld) -> PlatformEnvironment:
    return session.get_one(PlatformEnvironment, tw.contoso.dataverse_id)


def test_application_users_of_both_kinds_of_environment(
    store: ControlStore, tw: TokenWorld
) -> None:
    with store.session() as session:
        admin = _user(session, "admin")
        fo = environments.get_environment(session, admin, tw.contoso.fo_env)
        dataverse = _dataverse(session, tw)
        # The dual-write application's users count, each in its own environment.
        assert [
            (u.client_id, u.security_role, u.dualwrite) for u in application_users(session, fo)
        ] == [(tw.dualwrite_client_id, "System administrator", True)]
        assert [(u.name, u.security_role) for u in application_users(session, dataverse)] == [
            ("Dual-write", "Dual-write app user")
        ]
        grant_application_user(
            session, admin, dataverse, tw.contoso.client_id, "System Administrator"
        )
        grant_application_user(
            session, admin, fo, "Contoso integration", "Dual-write user", enabled=False
        )
        again = grant_application_user(
            session, admin, fo, tw.contoso.client_id, "System administrator"
        )
        assert (again.security_role, again.enabled) == ("System administrator", True)
        granted = [u for u in application_users(session, fo) if not u.dualwrite]
        assert [(u.client_id, u.name, u.security_role) for u in granted] == [
            (tw.contoso.client_id, "Contoso integration", "System administrator")
        ]
        revoke_application_user(session, admin, fo, tw.contoso.client_id)
        assert [u.dualwrite for u in application_users(session, fo)] == [True]
        with pytest.raises(DualWriteError) as missing:
            revoke_application_user(session, admin, fo, tw.contoso.client_id)
        assert _code(missing) == "DW1002"


def test_application_users_refuse_what_they_must(store: ControlStore, tw: TokenWorld) -> None:
    with store.session() as session:
        admin, eve = _user(session, "admin"), _user(session, "eve")
        fo = environments.get_environment(session, admin, tw.contoso.fo_env)
        cases = [
            (lambda: grant_application_user(session, eve, fo, tw.contoso.client_id, "x"), "DW3004"),
            (
                lambda: grant_application_user(
                    session, eve, _dataverse(session, tw), tw.contoso.client_id, "x"
                ),
                "DW3004",
            ),
            (
                lambda: grant_application_user(session, admin, fo, tw.fabrikam.client_id, "x"),
                "DW1002",
            ),
            (
                lambda: grant_application_user(session, admin, fo, tw.contoso.client_id, " "),
                "DW1000",
            ),
            (
                lambda: grant_application_user(session, admin, fo, tw.dualwrite_client_id, "x"),
                "DW3009",
            ),
            (lambda: revoke_application_user(session, admin, fo, tw.dualwrite_client_id), "DW3009"),
        ]
        for attempt, code in cases:
            with pytest.raises(DualWriteError) as caught:
                attempt()
            assert _code(caught) == code, caught.value


def test_environment_managers_and_dataverse_admins_add_application_users(
    store: ControlStore, tw: TokenWorld
) -> None:
    with store.session() as session:
        admin, eve = _user(session, "admin"), _user(session, "eve")
        fo = environments.get_environment(session, admin, tw.contoso.fo_env)
        projects.add_member(session, admin, fo.project, eve.upn, "environment-manager")
        grant_application_user(session, eve, fo, tw.contoso.client_id, "System administrator")
        pat = _user(session, "pat")  # Power Platform administrator
        grant_application_user(
            session, pat, _dataverse(session, tw), tw.contoso.client_id, "Basic User"
        )


def test_security_roles_say_what_a_caller_is_in_an_environment(
    store: ControlStore, tw: TokenWorld
) -> None:
    with store.session() as session:
        admin, eve = _user(session, "admin"), _user(session, "eve")
        fo_env = environments.get_environment(session, admin, tw.contoso.fo_env)
        fo = find_resource(session, admin.tenant, f"{BASE}/environments/{fo_env.name}")
        dv = find_resource(session, admin.tenant, f"{BASE}/dataverse/{tw.contoso.dataverse_id}")
        assert fo is not None and dv is not None
        app = apps.get_application(session, admin, tw.contoso.client_id)
        caller = Principal(app.tenant_id, app.object_id, app_id=app.client_id)
        assert security_roles(session, caller, fo) == []  # a token, but no application user
        grant_application_user(session, admin, fo_env, app.client_id, "System administrator")
        assert security_roles(session, caller, fo) == ["System administrator"]
        grant_application_user(
            session, admin, fo_env, app.client_id, "System administrator", enabled=False
        )
        assert security_roles(session, caller, fo) == []
        dualwrite = session.scalars(
            select(RegisteredApplication).where(
                RegisteredApplication.client_id == tw.dualwrite_client_id
            )
        ).one()
        dw = Principal(dualwrite.tenant_id, dualwrite.object_id, app_id=dualwrite.client_id)
        assert security_roles(session, dw, dv) == ["Dual-write app user"]
        session.scalars(
            select(ApplicationUser).where(ApplicationUser.side == "dataverse")
        ).one().enabled = False
        assert security_roles(session, dw, dv) == []
        # Users: the Dataverse's admins; in F&O their roles and the project's managers.
        assert security_roles(
            session, Principal(admin.tenant_id, admin.object_id, user_id=admin.id), dv
        ) == [SYSTEM_ADMINISTRATOR]
        as_admin = Principal(admin.tenant_id, admin.object_id, user_id=admin.id)
        assert security_roles(session, as_admin, fo) == [FO_SYSTEM_ADMINISTRATOR]
        as_eve = Principal(eve.tenant_id, eve.object_id, user_id=eve.id)
        assert security_roles(session, as_eve, fo) == security_roles(session, as_eve, dv) == []
        environments.grant_environment_role(session, admin, fo_env, eve.upn, "dualwrite-user")
        assert security_roles(session, as_eve, fo) == ["Dual-write user"]
        other = directory.get_user(session, tw.fabrikam.admin)
        outsider = Principal(other.tenant_id, other.object_id, user_id=other.id)
        assert security_roles(session, outsider, dv) == []
        assert session.get(FoEnvironment, fo.fo_environment_id) is not None
