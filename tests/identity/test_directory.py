"""Tenants, users, roles and licenses: the rules a directory administrator relies on."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from dualwrite.control.models import DirectoryRole, Tenant, User
from dualwrite.control.store import ControlStore
from dualwrite.errors import DualWriteError
from dualwrite.identity import directory
from dualwrite.identity.passwords import verify_password
from factories import PASSWORD, add_user, bootstrap


def test_bootstrap_makes_a_global_administrator_with_a_hashed_password(store: ControlStore) -> None:
    with store.session() as session:
        admin = bootstrap(session)
        assert admin.role_names == [DirectoryRole.GLOBAL_ADMIN]
        assert admin.password_hash != PASSWORD
        assert verify_password(admin.password_hash, PASSWORD)
        assert not verify_password(admin.password_hash, PASSWORD + "x")


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("domain", "not a domain", "DW1000"),
        ("admin_upn", "admin@elsewhere.com", "DW1000"),
        ("admin_upn", "no-at-sign", "DW1000"),
        ("admin_password", "short", "DW3006"),
        ("display_name", "   ", "DW1000"),
    ],
)
def test_bad_tenant_input_is_refused_and_nothing_is_stored(
    store: ControlStore, field: str, value: str, code: str
) -> None:
    values = {
        "domain": "fabrikam.onmicrosoft.com",
        "display_name": "Fabrikam",
        "admin_upn": "admin@fabrikam.onmicrosoft.com",
        "admin_name": "Admin",
        "admin_password": PASSWORD,
    }
    values[field] = value
    with pytest.raises(DualWriteError) as err, store.session() as session:
        directory.create_tenant(session, None, **values)
    assert err.value.code == code
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(Tenant)) == 0
        assert session.scalar(select(func.count()).select_from(User)) == 0


def test_duplicate_tenant_and_user_names_conflict(store: ControlStore) -> None:
    with store.session() as session:
        admin = bootstrap(session)
        add_user(session, admin, "chris")
    with pytest.raises(DualWriteError) as err, store.session() as session:
        bootstrap(session)
    assert (err.value.code, err.value.status) == ("DW1001", 409)
    with pytest.raises(DualWriteError) as err, store.session() as session:
        admin = directory.get_user(session, "admin@contoso.onmicrosoft.com")
        add_user(session, admin, "CHRIS")  # UPNs are case-insensitive
    assert "chris@contoso.onmicrosoft.com" in err.value.message


def test_only_a_global_administrator_adds_users_and_grants_roles(store: ControlStore) -> None:
    with store.session() as session:
        admin = bootstrap(session)
        pp_admin = add_user(session, admin, "pat", roles=("power-platform-admin",))
        with pytest.raises(DualWriteError) as err:
            add_user(session, pp_admin, "eve")
        assert (err.value.code, err.value.status) == ("DW3004", 403)
        assert "Global administrator" in err.value.message
        with pytest.raises(DualWriteError):
            directory.assign_role(session, pp_admin, pp_admin.upn, "global-admin")
        directory.assign_role(session, admin, pp_admin.upn, "Dynamics 365 Service administrator")
        assert set(pp_admin.role_names) == {
            DirectoryRole.POWER_PLATFORM_ADMIN,
            DirectoryRole.D365_SERVICE_ADMIN,
        }


def test_the_last_global_administrator_cannot_be_removed(store: ControlStore) -> None:
    with store.session() as session:
        admin = bootstrap(session)
        with pytest.raises(DualWriteError) as err:
            directory.remove_role(session, admin, admin.upn, "global-admin")
        assert "last Global administrator" in err.value.message
        second = add_user(session, admin, "sam", roles=("global-admin",))
        directory.remove_role(session, second, admin.upn, "global-admin")
        assert admin.role_names == []


def test_unknown_role_and_license_name_the_known_ones(store: ControlStore) -> None:
    with store.session() as session:
        admin = bootstrap(session)
        with pytest.raises(DualWriteError) as err:
            directory.assign_role(session, admin, admin.upn, "emperor")
        assert err.value.code == "DW1005"
        assert "global-admin" in err.value.hint
        with pytest.raises(DualWriteError) as err:
            directory.assign_license(session, admin, admin.upn, "FREE_BEER")
        assert err.value.code == "DW1004"
        assert "D365_FINANCE" in err.value.hint


def test_qualifying_licenses_are_those_of_seed_003(store: ControlStore) -> None:
    with store.session() as session:
        admin = bootstrap(session)
        user = add_user(
            session, admin, "lee", licenses=("M365_E3", "Dynamics 365 Sales Enterprise")
        )
        assert directory.qualifying_licenses(session, user) == []
        directory.assign_license(session, admin, user.upn, "AX Enterprise")
        assert [lic.sku for lic in directory.qualifying_licenses(session, user)] == [
            "AX_ENTERPRISE"
        ]
        qualifying = {
            lic.name for lic in directory.license_catalogue(session) if lic.qualifies_for_fo
        }
        assert qualifying == {
            "Dynamics 365 Finance",
            "Dynamics 365 Supply Chain Management",
            "Dynamics 365 Commerce",
            "Dynamics 365 Project Operations",
            "Dynamics 365 Human Resources",
            "Dynamics 365 Unified Operations Plan",
            "AX Enterprise",
        }


def test_tenant_settings_need_a_global_or_power_platform_administrator(
    store: ControlStore,
) -> None:
    with store.session() as session:
        admin = bootstrap(session)
        pp_admin = add_user(session, admin, "pat", roles=("power-platform-admin",))
        plain = add_user(session, admin, "joe")
        tenant = admin.tenant
        with pytest.raises(DualWriteError) as err:
            directory.update_tenant_settings(
                session, plain, tenant, everyone_can_create_environments=False
            )
        assert err.value.status == 403
        directory.update_tenant_settings(
            session, pp_admin, tenant, everyone_can_create_environments=False
        )
        assert tenant.everyone_can_create_environments is False
        for bad in (float("nan"), float("inf"), -1.0):  # whichever interface they come from
            with pytest.raises(DualWriteError) as err:
                directory.update_tenant_settings(
                    session, pp_admin, tenant, database_capacity_gb=bad
                )
            assert err.value.code == "DW1000"
        assert tenant.database_capacity_gb == 10.0


def test_users_of_another_tenant_cannot_be_managed(store: ControlStore) -> None:
    with store.session() as session:
        contoso = bootstrap(session)
        fabrikam = bootstrap(session, "fabrikam.onmicrosoft.com")
        with pytest.raises(DualWriteError) as err:
            directory.assign_role(session, contoso, fabrikam.upn, "power-platform-admin")
        # As if the user did not exist: nothing of another tenant is told, not even its users.
        assert err.value.code == "DW1002"
        assert [u.upn for u in directory.list_users(session, contoso)] == [contoso.upn]
