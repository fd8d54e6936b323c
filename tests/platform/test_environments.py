"""Power Platform environments: Dataverse, capacity, governance, System Administrators."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from dualwrite.control.models import PlatformEnvironment, User
from dualwrite.control.store import ControlStore
from dualwrite.errors import DualWriteError
from dualwrite.identity import directory
from dualwrite.platform import environments as platform
from dualwrite.settings import Settings
from factories import add_user, bootstrap


def _create(settings: Settings, session, actor: User, name: str, dataverse: bool = True):  # type: ignore[no-untyped-def]
    return platform.create_environment(
        session,
        settings,
        actor,
        name=name,
        region="West US",
        dataverse=dataverse,
        dataverse_url=None,
    )


def test_dataverse_environment_uses_capacity_and_has_its_creator_as_admin(
    store: ControlStore, settings: Settings
) -> None:
    with store.session() as session:
        admin = bootstrap(session)
        env = _create(settings, session, admin, "Field Service")
        assert (env.has_dataverse, env.geography, env.storage_used_gb) == (
            True,
            "United States",
            1.0,
        )
        assert platform.is_admin(env, admin)
        cap = platform.capacity(session, admin.tenant)
        assert (cap.total_gb, cap.used_gb, cap.free_gb) == (10.0, 1.0, 9.0)
        assert (
            env.dataverse_url
            and (
                settings.environments_dir / "contoso.onmicrosoft.com" / "pp-field-service"
            ).exists()
        )


def test_setup_fails_without_one_gigabyte_of_free_capacity(
    store: ControlStore, settings: Settings
) -> None:
    with store.session() as session:
        admin = bootstrap(session)
        directory.update_tenant_settings(session, admin, admin.tenant, database_capacity_gb=1.5)
        _create(settings, session, admin, "First")
    with pytest.raises(DualWriteError) as err, store.session() as session:
        admin = directory.get_user(session, "admin@contoso.onmicrosoft.com")
        _create(settings, session, admin, "Second")
    assert err.value.code == "DW4001"
    assert "0.5 GB" in err.value.message
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(PlatformEnvironment)) == 1
        # Without Dataverse no capacity is needed.
        admin = directory.get_user(session, "admin@contoso.onmicrosoft.com")
        _create(settings, session, admin, "No Dataverse", dataverse=False)


@pytest.mark.parametrize(
    ("roles", "allowed"),
    [
        ((), False),
        (("power-platform-admin",), True),
        (("d365-service-admin",), True),
        (("global-admin",), True),
    ],
)
def test_governance_restricts_who_creates_environments(
    store: ControlStore, settings: Settings, roles: tuple[str, ...], allowed: bool
) -> None:
    with store.session() as session:
        admin = bootstrap(session)
        directory.update_tenant_settings(
            session, admin, admin.tenant, everyone_can_create_environments=False
        )
        user = add_user(session, admin, "uma", roles=roles)
        if allowed:
            _create(settings, session, user, "Mine")
        else:
            with pytest.raises(DualWriteError) as err:
                _create(settings, session, user, "Mine")
            assert err.value.status == 403
            assert "Power Platform administrator" in err.value.message


def test_admins_are_granted_by_admins_only(store: ControlStore, settings: Settings) -> None:
    with store.session() as session:
        admin = bootstrap(session)
        maker = add_user(session, admin, "mo")
        other = add_user(session, admin, "ola")
        env = _create(settings, session, maker, "Maker env")
        with pytest.raises(DualWriteError):
            platform.add_admin(session, other, env, other.upn)
        platform.add_admin(session, maker, env, other.upn)
        platform.add_admin(session, admin, env, admin.upn)  # Global admin may, too
        assert {a.user.upn for a in env.admins} == {maker.upn, other.upn, admin.upn}
        assert platform.get_environment(session, other, env.id).name == "Maker env"
        with pytest.raises(DualWriteError) as err:
            platform.get_environment(session, other, "nope")
        assert err.value.code == "DW1002"
