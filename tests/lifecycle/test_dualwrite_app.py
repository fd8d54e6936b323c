"""The Dual-write application and Link to Power Platform environment (seed 001): terms, jobs that
succeed or fail with DW9003 (CRM and AX), the link to the Dual-write page, the linking-mismatch
warning with both fixes, and resetting the link."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from dualwrite.control.models import ActivityEntry, ApplicationUser, InstalledSolution, JobState
from dualwrite.control.store import ControlStore
from dualwrite.errors import DualWriteError
from dualwrite.lifecycle import appusers, dualwrite_app, linking, ppi
from dualwrite.lifecycle.ppi import SetupRequest
from dualwrite.link import links, tablemaps, wizard
from dualwrite.platform import environments as platform
from dualwrite.settings import Settings
from setup_world import ENV, FIELD, SetupWorld, setup_world

CRM = (
    "Failed to connect to CRM. Ensure that the service principal has the correct permissions to "
    "access CRM."
)
AX = (
    "Failed to connect to AX. Ensure that the service principal has the correct permissions to "
    "access AX."
)


def _integrate(w: SetupWorld, target: str = FIELD) -> None:
    with w.store.session() as session:
        request = SetupRequest(use_existing=True, platform_environment=target, confirm_name="Em")
        job_id = ppi.request_setup(
            session, w.settings, w.user(session, "em"), w.env(session), request
        ).id
    assert w.run(job_id).state is JobState.SUCCEEDED


def _install(w: SetupWorld, alias: str = "em", target: str | None = None) -> int:
    with w.store.session() as session:
        other = w.platform(session, target) if target else None
        return dualwrite_app.request_install(
            session, w.user(session, alias), w.env(session), accept_terms=True, platform_env=other
        ).id


def _link(w: SetupWorld) -> int:
    with w.store.session() as session:
        return linking.request_link(session, w.user(session, "em"), w.env(session)).id


@pytest.fixture
def w(store: ControlStore, settings: Settings) -> SetupWorld:
    return setup_world(store, settings)


def _raises(w: SetupWorld, code: str, alias: str = "em", accept: bool = True) -> None:
    with w.store.session() as session, pytest.raises(DualWriteError) as err:
        dualwrite_app.request_install(
            session, w.user(session, alias), w.env(session), accept_terms=accept
        )
    assert err.value.code == code


def test_configure_needs_integration_roles_and_the_terms(w: SetupWorld) -> None:
    _raises(w, "DW4021")  # Power Platform integration not set up
    _integrate(w)
    _raises(w, "DW4013", alias="joe")  # not in the LCS project
    with w.store.session() as session:  # em is no System Administrator of the Dataverse
        w.platform(session).admins = [
            a for a in w.platform(session).admins if a.user.upn != "em@contoso.onmicrosoft.com"
        ]
    _raises(w, "DW4012")
    _raises(w, "DW4020", alias="admin", accept=False)
    with w.store.session() as session:
        assert session.scalar(select(func.count()).select_from(ApplicationUser)) == 0


def test_the_job_creates_application_users_and_installs_the_solutions(w: SetupWorld) -> None:
    _integrate(w)
    job = w.run(_install(w))
    assert (job.state, job.error_code) == (JobState.SUCCEEDED, None)
    with w.store.session() as session:
        env, target = w.env(session), w.platform(session)
        users = appusers.application_users(session, env, target)
        assert users[appusers.AppSide.DATAVERSE].security_role == "Dual-write app user"
        assert users[appusers.AppSide.FO].security_role == "System administrator"
        assert (
            users[appusers.AppSide.FO].application_id
            == users[appusers.AppSide.DATAVERSE].application_id
        )
        assert appusers.orchestration_installed(session, target)


@pytest.mark.parametrize(
    ("side", "change", "message"),
    [
        ("dataverse", {"enabled": False}, CRM),
        ("fo", {"security_role": ""}, AX),
    ],
    ids=["crm", "ax"],
)
def test_dw9003_when_an_application_user_lacks_permissions(
    w: SetupWorld, side: str, change: dict[str, object], message: str
) -> None:
    _integrate(w)
    assert w.run(_install(w)).state is JobState.SUCCEEDED
    with w.store.session() as session:
        appusers.update_application_user(
            session,
            w.user(session, "admin" if side == "dataverse" else "em"),
            w.env(session),
            w.platform(session),
            side,
            **change,
        )  # type: ignore[arg-type]
        session.execute(
            InstalledSolution.__table__.delete().where(InstalledSolution.kind == "orchestration")
        )
    job = w.run(_install(w))  # the job cannot fix a principal it has no rights over
    assert (job.state, job.error_code, job.error_message) == (JobState.FAILED, "DW9003", message)
    assert "app-users contoso-test" in (job.error_hint or "")
    with w.store.session() as session:
        assert not appusers.orchestration_installed(session, w.platform(session))  # rolled back
    with w.store.session() as session, pytest.raises(DualWriteError) as err:
        linking.request_link(session, w.user(session, "em"), w.env(session))
    assert err.value.code == "DW4022"


def test_link_to_power_platform_environment(w: SetupWorld) -> None:
    _integrate(w)
    with w.store.session() as session, pytest.raises(DualWriteError) as err:
        linking.request_link(session, w.user(session, "em"), w.env(session))
    assert err.value.code == "DW4022"  # the dual-write application comes first
    assert w.run(_install(w)).state is JobState.SUCCEEDED
    with w.store.session() as session:  # someone disables the Dataverse application user
        appusers.update_application_user(
            session,
            w.user(session, "em"),
            w.env(session),
            w.platform(session),
            "dataverse",
            enabled=False,
        )
    failed = w.run(_link(w))
    assert (failed.error_code, failed.error_message) == ("DW9003", CRM)
    with w.store.session() as session:
        assert links.find_link(session, w.env(session)) is None
        appusers.update_application_user(
            session,
            w.user(session, "em"),
            w.env(session),
            w.platform(session),
            "dataverse",
            enabled=True,
        )
    assert w.run(_link(w)).state is JobState.SUCCEEDED
    with w.store.session() as session:
        link = links.get_link(session, w.env(session))
        assert (link.platform_environment.name, link.legal_entity_ids) == (FIELD, ["DEMF", "USMF"])
        status = linking.linking_status(session, w.env(session))
    assert (status.dualwrite_page, status.warning) == (f"/environments/{ENV}/dualwrite", None)


def _wizard_link(w: SetupWorld, target: str) -> None:
    with w.store.session() as session:
        wizard.create_link(
            session,
            w.user(session, "admin"),
            w.env(session),
            w.platform(session, target),
            ["USMF"],
            consent=True,
        )


def _second_dataverse_prepared_by_hand(w: SetupWorld) -> None:
    with w.store.session() as session:  # a second US Dataverse the user registered by hand
        target = platform.create_environment(
            session,
            w.settings,
            w.user(session, "admin"),
            name="Sales",
            region="East US",
            dataverse=True,
            dataverse_url=None,
        )
        platform.add_admin(session, w.user(session, "admin"), target, "em@contoso.onmicrosoft.com")
    assert w.run(_install(w, target="Sales")).state is JobState.SUCCEEDED


def test_mismatch_when_integration_was_never_set_up(w: SetupWorld) -> None:
    _second_dataverse_prepared_by_hand(w)
    _wizard_link(w, "Sales")
    with w.store.session() as session:
        status = linking.linking_status(session, w.env(session))
    assert status.warning == linking.MISMATCH_WARNING
    assert (
        "linked via Dual-write to a different destination than specified in Power Platform "
        "Integration" in status.warning
    )
    assert len(status.fixes) == 1 and "--existing 'Sales'" in status.fixes[0]
    _integrate(w, "Sales")  # the first fix: integrate with the Dataverse dual-write uses
    with w.store.session() as session:
        assert linking.linking_status(session, w.env(session)).warning is None


def test_mismatch_fixed_by_reset_and_relink(w: SetupWorld) -> None:
    _integrate(w)  # integrated with Field Service…
    assert w.run(_install(w)).state is JobState.SUCCEEDED
    _second_dataverse_prepared_by_hand(w)
    _wizard_link(w, "Sales")  # …but dual-write linked to Sales
    with w.store.session() as session:
        status = linking.linking_status(session, w.env(session))
        assert status.warning and "dualwrite link reset contoso-test" in status.fixes[0]
        link = links.get_link(session, w.env(session))
        links.apply_default_solutions(session, w.user(session, "admin"), link)
        tablemaps.run_maps(
            session, w.user(session, "admin"), link, ["Legal entities (cdm_companies)"]
        )
    with w.store.session() as session, pytest.raises(DualWriteError) as err:
        linking.reset_link(session, w.user(session, "admin"), w.env(session))
    assert err.value.code == "DW5008" and "Legal entities (cdm_companies)" in err.value.message
    with w.store.session() as session, pytest.raises(DualWriteError) as denied:
        linking.reset_link(session, w.user(session, "em"), w.env(session))
    assert denied.value.code == "DW9403"
    with w.store.session() as session:
        link = links.get_link(session, w.env(session))
        tablemaps.stop_maps(
            session, w.user(session, "admin"), link, ["Legal entities (cdm_companies)"]
        )
    with w.store.session() as session:
        linking.reset_link(session, w.user(session, "admin"), w.env(session))
    _wizard_link(w, FIELD)
    with w.store.session() as session:
        status = linking.linking_status(session, w.env(session))
    assert (status.linked_to, status.integrated_with, status.warning) == (FIELD, FIELD, None)


def test_fixing_the_application_users_the_health_check_reports(w: SetupWorld) -> None:
    """DW9003's fix: a tenant administrator makes both sides connect again; logged, once."""
    _integrate(w)
    assert w.run(_install(w)).state is JobState.SUCCEEDED
    with w.store.session() as session:
        env, target = w.env(session), w.platform(session)
        em, admin = w.user(session, "em"), w.user(session, "admin")
        appusers.update_application_user(session, em, env, target, "dataverse", enabled=False)
        appusers.update_application_user(session, em, env, target, "fo", security_role="")
        with pytest.raises(DualWriteError) as refused:
            appusers.fix_application_users(session, em, env, target)
        assert (refused.value.code, refused.value.message) == (
            "DW3004",
            "Fixing the dual-write application users requires the Global administrator role in "
            "this tenant.",
        )
        with pytest.raises(DualWriteError) as dw9003:
            appusers.require_service_principal(session, env, target)
        assert "fix-app-users contoso-test --dataverse 'Field Service'" in dw9003.value.hint
        appusers.fix_application_users(session, admin, env, target)
        appusers.require_service_principal(session, env, target)  # passes now
        users = appusers.application_users(session, env, target)
        assert users[appusers.AppSide.FO].security_role == "System administrator"
        other = platform.get_environment(session, admin, "Tokyo")  # none there yet: created
        made = appusers.fix_application_users(session, admin, env, other)
        assert {(u.side, u.enabled, u.security_role) for u in made} == {
            ("dataverse", True, "Dual-write app user"),
            ("fo", True, "System administrator"),
        }
        appusers.fix_application_users(session, admin, env, target)  # nothing to fix: no entry
        logged = [
            e.message
            for e in session.scalars(select(ActivityEntry).order_by(ActivityEntry.id))
            if e.message.startswith("Application users")
        ]
    assert logged == [
        "Application users for Field Service: AX application user given the System "
        "administrator role, CRM application user enabled",
        "Application users for Tokyo: AX application user created, CRM application user created",
    ]
