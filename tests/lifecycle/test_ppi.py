"""Power Platform integration (seed 003): every validation failing on its own, the typed-name
confirmation, and the provisioning job succeeding, failing and being interrupted."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text, update

from dualwrite.control.models import (
    DataStoreClaim,
    EnvironmentState,
    InstalledSolution,
    Job,
    JobState,
    PlatformEnvironment,
)
from dualwrite.control.store import ControlStore
from dualwrite.databases import make_engine
from dualwrite.errors import DualWriteError
from dualwrite.identity import directory
from dualwrite.jobs.runner import recover_stale, run_job
from dualwrite.lifecycle import environments, ppi, projects
from dualwrite.lifecycle.details import environment_detail
from dualwrite.lifecycle.ppi import SetupRequest
from dualwrite.link import links
from dualwrite.platform import environments as platform
from dualwrite.settings import Settings
from factories import bootstrap
from setup_world import ENV, FIELD, SetupWorld, setup_world

EXISTING = SetupRequest(use_existing=True, platform_environment=FIELD, confirm_name="Tenant Admin")


@pytest.fixture
def w(store: ControlStore, settings: Settings) -> SetupWorld:
    return setup_world(store, settings)


def _request(w: SetupWorld, alias: str, request: SetupRequest) -> int:
    with w.store.session() as session:
        actor, env = w.user(session, alias), w.env(session)
        return ppi.request_setup(session, w.settings, actor, env, request).id


def _failed_checks(w: SetupWorld, alias: str, request: SetupRequest) -> dict[str, str]:
    with w.store.session() as session:
        checks = ppi.check_setup(session, w.user(session, alias), w.env(session), request)
    return {c.name: c.error.code for c in checks if c.error}


def _jobs(w: SetupWorld) -> int:
    with w.store.session() as session:
        return session.scalar(select(func.count()).select_from(Job)) or 0


def test_every_validation_passes_for_a_licensed_environment_manager(w: SetupWorld) -> None:
    assert _failed_checks(w, "em", EXISTING) == {}
    assert _failed_checks(w, "admin", SetupRequest()) == {}  # new Dataverse: no target checks


@pytest.mark.parametrize(
    ("change", "request_", "check", "code"),
    [
        (
            lambda s, w: s.execute(text("UPDATE tenants SET database_capacity_gb = 2.5")),
            EXISTING,  # Field Service and Tokyo already take 2 GB: 0.5 GB free
            "Free database capacity (1 GB)",
            "DW4001",
        ),
        (
            lambda s, w: s.execute(
                text("UPDATE tenants SET everyone_can_create_environments = false")
            ),
            EXISTING,
            "Allowed to create Power Platform environments",
            "DW4011",
        ),
        (
            lambda s, w: projects.add_member(
                s, w.user(s, "admin"), w.env(s).project, "em@contoso.onmicrosoft.com", "team-member"
            ),
            EXISTING,
            "Environment manager or Project owner in the project",
            "DW4013",
        ),
        (
            lambda s, w: (
                directory.assign_license(
                    s, w.user(s, "admin"), "em@contoso.onmicrosoft.com", "D365_SCM"
                )
                and s.execute(text("DELETE FROM license_assignments"))
            ),
            EXISTING,
            "Qualifying license",
            "DW4015",
        ),
        (
            lambda s, w: s.execute(text("DELETE FROM platform_environment_admins")),
            EXISTING,
            "System Administrator in Dataverse",
            "DW4012",
        ),
        (
            lambda s, w: None,
            SetupRequest(use_existing=True, platform_environment="Tokyo"),
            "Same geography as the environment's region",
            "DW4010",
        ),
    ],
    ids=["capacity", "governance", "lcs-role", "license", "dataverse-admin", "geography"],
)
def test_each_validation_fails_with_its_own_error(
    w: SetupWorld,
    change: Callable[..., object],
    request_: SetupRequest,
    check: str,
    code: str,
) -> None:
    with w.store.session() as session:
        change(session, w)
    assert _failed_checks(w, "em", request_) == {check: code}
    with pytest.raises(DualWriteError) as err:  # alone, the setup raises that very error
        _request(w, "em", SetupRequest(**{**request_.__dict__, "confirm_name": "Em"}))
    assert err.value.code == code
    assert _jobs(w) == 0


def test_geography_message_names_both_sides(w: SetupWorld) -> None:
    with pytest.raises(DualWriteError) as err:
        _request(w, "em", SetupRequest(use_existing=True, platform_environment="Tokyo"))
    assert err.value.message == (
        "Power Platform environment 'Tokyo' is in Japan, but 'contoso-test' is deployed in West "
        "US, which is United States."
    )


def test_governance_passes_for_a_power_platform_admin(w: SetupWorld) -> None:
    with w.store.session() as session:
        session.execute(text("UPDATE tenants SET everyone_can_create_environments = false"))
        directory.assign_role(
            session, w.user(session, "admin"), "em@contoso.onmicrosoft.com", "power-platform-admin"
        )
    assert _failed_checks(w, "em", EXISTING) == {}


def test_an_account_of_another_tenant_fails(w: SetupWorld) -> None:
    with w.store.session() as session:
        outsider = bootstrap(session, "fabrikam.onmicrosoft.com")
        directory.assign_license(session, outsider, outsider.upn, "D365_FINANCE")
        project = w.env(session).project
        projects.add_member(
            session, w.user(session, "admin"), project, outsider.upn, "environment-manager"
        )
        checks = ppi.check_setup(session, outsider, w.env(session), SetupRequest())
    failed = {c.name: c.error for c in checks if c.error}
    assert list(failed) == ["Account from the tenant that owns the project"]
    assert failed["Account from the tenant that owns the project"].message == (
        "You are signed in with an account of fabrikam.onmicrosoft.com, but project 'ERP' is owned "
        "by contoso.onmicrosoft.com."
    )


def test_several_failures_are_reported_together(w: SetupWorld) -> None:
    with pytest.raises(DualWriteError) as err:
        _request(w, "joe", SetupRequest(use_existing=True, platform_environment="Tokyo"))
    assert err.value.code == "DW4003"
    for name in (
        "Environment manager or Project owner in the project",
        "Same geography as the environment's region",
        "System Administrator in Dataverse",
    ):
        assert name in err.value.message


def test_a_dataverse_of_another_environment_is_refused(w: SetupWorld) -> None:
    assert (
        w.run(_request(w, "em", SetupRequest(**{**EXISTING.__dict__, "confirm_name": "Em"}))).state
        is JobState.SUCCEEDED
    )
    with w.store.session() as session:
        admin = w.user(session, "admin")
        spec = environments.EnvironmentSpec(name="contoso-two", legal_entities=["USMF"])
        environments.deploy_environment(session, w.settings, admin, w.env(session).project, spec)
        checks = ppi.check_setup(session, admin, w.env(session, "contoso-two"), EXISTING)
    assert {c.name: c.error.code for c in checks if c.error} == {
        "Dataverse not integrated with another environment": "DW4016"
    }


@pytest.mark.parametrize(
    ("typed", "problem"), [(None, "type your name"), ("Someone Else", "is not your name")]
)
def test_nothing_changes_without_the_typed_name(
    w: SetupWorld, typed: str | None, problem: str
) -> None:
    with pytest.raises(DualWriteError) as err:
        _request(
            w,
            "admin",
            SetupRequest(use_existing=True, platform_environment=FIELD, confirm_name=typed),
        )
    assert err.value.code == "DW4005"
    assert problem in err.value.message and "can't be undone" in err.value.message
    assert "(Tenant Admin)" in err.value.hint
    assert _jobs(w) == 0
    with w.store.session() as session:
        assert w.env(session).platform_environment.is_initial  # type: ignore[union-attr]


def test_existing_dataverse_job_with_downtime(w: SetupWorld) -> None:
    job_id = _request(
        w,
        "admin",
        SetupRequest(
            use_existing=True,
            platform_environment="  field service ".strip().title(),
            confirm_name=" tenant  admin ",
        ),
    )
    with w.store.session() as session:
        assert session.get_one(Job, job_id).state is JobState.QUEUED
        assert w.env(session).state is EnvironmentState.DEPLOYED  # nothing yet
        used_before = platform.capacity(session, w.env(session).project.tenant).used_gb
    seen: list[tuple[str, str, str | None]] = []

    def during(step: str, _percent: int) -> None:
        with w.store.session() as session:
            env = w.env(session)
            try:
                environments.require_writable(env)
                refused = None
            except DualWriteError as error:
                refused = error.code
            environment_detail(session, env)  # reads keep working
            seen.append((step, env.state.value, refused))

    assert run_job(w.store, job_id, during)
    assert (
        "Installing finance and operations platform apps on Dataverse",
        "downtime",
        "DW2004",
    ) in seen
    with w.store.session() as session:
        job, env, target = session.get_one(Job, job_id), w.env(session), w.platform(session)
        assert (job.state, job.percent, job.error_code) == (JobState.SUCCEEDED, 100, None)
        assert env.state is EnvironmentState.DEPLOYED and env.state_reason is None
        assert env.platform_environment is not None and env.platform_environment.id == target.id
        initial = session.scalars(
            select(PlatformEnvironment).where(PlatformEnvironment.is_initial)
        ).one()
        assert initial.fo_environment_id is None and not initial.has_dataverse  # kept, disconnected
        apps = session.scalars(
            select(InstalledSolution.name).where(
                InstalledSolution.platform_environment_id == target.id
            )
        ).all()
        assert sorted(apps) == sorted(name for name, _v in ppi.PLATFORM_APPS)
        assert platform.capacity(session, env.project.tenant).used_gb == used_before + 1
        # Dual-write against the disconnected initial environment gets a clear error.
        with pytest.raises(DualWriteError) as err:
            links.require_linkable(session, env, initial)
        assert err.value.code == "DW4002"
        with pytest.raises(DualWriteError) as again:
            ppi.request_setup(session, w.settings, w.user(session, "admin"), env, EXISTING)
        assert again.value.code == "DW4006"


def test_new_dataverse_job(w: SetupWorld) -> None:
    job = w.run(_request(w, "em", SetupRequest(confirm_name="Em")))
    assert job.state is JobState.SUCCEEDED
    with w.store.session() as session:
        env = w.env(session)
        target = env.platform_environment
        assert target is not None and target.name == ENV and target.has_dataverse
        assert (target.region, target.geography) == ("West US", "United States")
        assert [a.user.upn for a in target.admins] == ["em@contoso.onmicrosoft.com"]
        url = target.dataverse_url
    engine = make_engine(url or "")
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM account")).scalar_one() == 0
    finally:
        engine.dispose()


def test_a_failed_job_leaves_everything_as_it_was(
    w: SetupWorld, new_database: Callable[[str], str]
) -> None:
    # A new Dataverse pointed at a database that holds part of a Dataverse schema.
    url = new_database("sqlite")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE account (accountid VARCHAR(36) PRIMARY KEY)"))
    engine.dispose()
    with w.store.session() as session:
        used_before = platform.capacity(session, w.env(session).project.tenant).used_gb
    job = w.run(_request(w, "admin", SetupRequest(dataverse_url=url, confirm_name="Tenant Admin")))
    assert (job.state, w.error_of(job)) == (JobState.FAILED, "DW2003")
    assert "holds only part of a Dataverse data store" in (job.error_message or "")
    with w.store.session() as session:
        env = w.env(session)
        assert env.state is EnvironmentState.DEPLOYED
        assert env.platform_environment is not None and env.platform_environment.is_initial
        assert (
            session.scalar(select(PlatformEnvironment).where(PlatformEnvironment.name == ENV))
            is None
        )
        assert platform.capacity(session, env.project.tenant).used_gb == used_before


def test_validations_run_again_when_the_job_starts(w: SetupWorld) -> None:
    job_id = _request(w, "em", SetupRequest(**{**EXISTING.__dict__, "confirm_name": "Em"}))
    with w.store.session() as session:  # the license goes away while the job waits
        session.execute(text("DELETE FROM license_assignments"))
    job = w.run(job_id)
    assert (job.state, w.error_of(job)) == (JobState.FAILED, "DW4015")
    with w.store.session() as session:
        assert w.env(session).state is EnvironmentState.DEPLOYED


def test_one_job_at_a_time_and_never_run_twice(w: SetupWorld) -> None:
    job_id = _request(w, "admin", EXISTING)
    with pytest.raises(DualWriteError) as err:
        _request(w, "admin", EXISTING)
    assert err.value.code == "DW4007"
    assert run_job(w.store, job_id) is True
    assert run_job(w.store, job_id) is False  # already taken


def test_an_interrupted_job_fails_and_ends_the_downtime(w: SetupWorld) -> None:
    job_id = _request(w, "admin", EXISTING)
    with w.store.session() as session:  # what a runner killed mid-job leaves behind
        stale = session.get_one(Job, job_id)
        stale.state = JobState.RUNNING
        session.execute(
            update(Job).where(Job.id == job_id).values(heartbeat_at=func.current_timestamp())
        )
        env = w.env(session)
        env.state, env.state_reason = EnvironmentState.DOWNTIME, ppi.DOWNTIME_REASON
    assert recover_stale(w.store, older_than=timedelta(minutes=5)) == 0  # still fresh
    assert recover_stale(w.store, older_than=timedelta(seconds=-1)) == 1
    with w.store.session() as session:
        job = session.get_one(Job, job_id)
        assert (job.state, job.error_code) == (JobState.FAILED, "DW4024")
        assert w.env(session).state is EnvironmentState.DEPLOYED


def test_an_environment_without_dataverse_cannot_be_chosen(w: SetupWorld) -> None:
    initial = SetupRequest(use_existing=True, platform_environment=f"{ENV} (initial)")
    failed = _failed_checks(w, "admin", initial)
    assert failed == {
        "Power Platform environment has Dataverse": "DW4002",
        "System Administrator in Dataverse": "DW4012",  # the placeholder has no Dataverse to admin
    }
    with pytest.raises(DualWriteError) as err:
        _request(w, "em", SetupRequest(use_existing=True, platform_environment="nowhere"))
    assert err.value.code == "DW1002"


def _claims(w: SetupWorld) -> list[tuple[str, int | None, str | None]]:
    with w.store.session() as session:
        new = DataStoreClaim.location.like(f"%/pp-{ENV}/%")  # the Dataverse a setup creates
        rows = session.scalars(select(DataStoreClaim).where(new))
        return [(c.location, c.job_id, c.platform_environment_id) for c in rows]


def test_a_new_dataverse_is_held_by_its_job_then_owned_by_the_environment(w: SetupWorld) -> None:
    job_id = _request(w, "em", SetupRequest(confirm_name="Em"))
    ((location, holder, owner),) = _claims(w)
    assert location.endswith(f"/contoso.onmicrosoft.com/pp-{ENV}/dataverse.db")
    assert (holder, owner) == (job_id, None)
    # While the job waits, nobody else can have that database, not even an operator.
    with w.store.session() as session, pytest.raises(DualWriteError) as err:
        platform.create_environment(
            session,
            w.settings,
            w.user(session, "admin"),
            name="Squatter",
            region="West US",
            dataverse=True,
            dataverse_url=f"sqlite:///{location.removeprefix('sqlite:')}",
        )
    assert err.value.code == "DW2009"
    assert w.run(job_id).state is JobState.SUCCEEDED
    with w.store.session() as session:
        target_id = w.platform(session, ENV).id
    assert _claims(w) == [(location, None, target_id)]


def test_a_failed_or_interrupted_job_gives_its_location_back(w: SetupWorld) -> None:
    job_id = _request(w, "em", SetupRequest(confirm_name="Em"))
    with w.store.session() as session:  # fails when it starts: the license is gone
        session.execute(text("DELETE FROM license_assignments WHERE user_id != 1"))
    assert w.run(job_id).state is JobState.FAILED
    assert _claims(w) == []
    with w.store.session() as session:
        directory.assign_license(
            session, w.user(session, "admin"), "em@contoso.onmicrosoft.com", "D365_FINANCE"
        )
    job_id = _request(w, "em", SetupRequest(confirm_name="Em"))  # the location is free again
    with w.store.session() as session:  # what a runner killed mid-job leaves behind
        session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(state=JobState.RUNNING, heartbeat_at=func.current_timestamp())
        )
    assert recover_stale(w.store, older_than=timedelta(seconds=-1)) == 1
    assert _claims(w) == []
